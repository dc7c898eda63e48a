import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { SignInForm } from "@/components/sign-in-form";
import { getCurrentActor } from "@/lib/auth/current-actor";
import { signInErrorFromUrl } from "@/lib/auth/sign-in-error";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ error?: string | string[] }> }) {
  if (await getCurrentActor()) redirect("/");
  const { error } = await searchParams;
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm">
        <div className="mb-6 text-center">
          <p className="text-2xl font-semibold tracking-tight">Releasegate</p>
          <p className="mt-1 text-sm text-slate-600">Release approvals and zero-downtime promotion</p>
        </div>
        <div className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
          <SignInForm initialError={signInErrorFromUrl(error)} />
        </div>
      </div>
    </main>
  );
}
