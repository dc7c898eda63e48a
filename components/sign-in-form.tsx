"use client";

import { signIn } from "next-auth/react";
import { useState, useTransition } from "react";
import { signInErrorMessage } from "@/lib/auth/sign-in-error";
import { Button, useHydrated } from "./form";

export function SignInForm({ initialError }: { initialError?: string }) {
  const [error, setError] = useState(initialError);
  const [pending, startTransition] = useTransition();
  const hydrated = useHydrated();

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    // Cleared first so a repeated failure is announced again instead of looking as if nothing happened.
    setError(undefined);
    startTransition(async () => {
      // A request that fails on the way (network, a restarting server) is said here, not with the error page.
      const res = await signIn("credentials", {
        email: String(data.get("email") ?? ""),
        password: String(data.get("password") ?? ""),
        redirect: false,
      }).catch(() => "unreachable" as const);
      if (res === "unreachable") {
        setError("Releasegate could not be reached, or its answer was lost. Try again in a moment.");
        return;
      }
      if (!res || res.error) {
        setError(signInErrorMessage(res?.error));
        return;
      }
      // A full navigation, so every server component renders with the new session.
      window.location.assign("/");
    });
  }

  return (
    // method="post" and the button disabled until hydrated: never a password in the address (useHydrated).
    <form method="post" onSubmit={onSubmit} className="space-y-4">
      <div>
        <label htmlFor="email" className="block text-sm font-medium text-slate-700">
          Email
        </label>
        <input id="email" name="email" type="email" autoComplete="username" required autoFocus className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200" />
      </div>
      <div>
        <label htmlFor="password" className="block text-sm font-medium text-slate-700">
          Password
        </label>
        <input id="password" name="password" type="password" autoComplete="current-password" required className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200" />
      </div>
      {error && (
        <p role="alert" className="rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800">
          {error}
        </p>
      )}
      <Button type="submit" disabled={pending || !hydrated} className="w-full py-2">
        {pending ? "Signing in…" : "Sign in"}
      </Button>
    </form>
  );
}
