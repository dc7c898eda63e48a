import type { Metadata } from "next";
import Link from "next/link";
import { PasswordForm } from "@/components/password-form";
import { requirePageActor } from "@/lib/entry/page";
import { changePasswordAction } from "./actions";

export const metadata: Metadata = { title: "Password" };

export default async function PasswordPage() {
  const actor = await requirePageActor({ allowPasswordChange: true });
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-md rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <h1 className="text-xl font-semibold">{actor.mustChangePassword ? "Choose your password" : "Change your password"}</h1>
        <p className="mt-1 text-sm text-slate-600">
          {actor.mustChangePassword
            ? `Welcome, ${actor.name}. You signed in with a one-time password; choose your own to continue.`
            : "Other browsers where you are signed in will be signed out."}
        </p>
        <div className="mt-5">
          <PasswordForm action={changePasswordAction} />
        </div>
        {!actor.mustChangePassword && (
          <Link href="/" className="mt-4 inline-block text-sm text-indigo-700 hover:underline">
            ← Home
          </Link>
        )}
      </div>
    </main>
  );
}
