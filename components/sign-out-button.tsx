"use client";

// The navigation's sign-out. A client form, so that a request that fails on the way (network, a restarting server)
// says so next to the button instead of replacing the page with the error page; on success the action redirects.
import { useState, useTransition } from "react";
import { Button, callAction, useHydrated } from "./form";

export function SignOutButton({ action }: { action: () => Promise<void> }) {
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  const hydrated = useHydrated();
  return (
    <form
      data-testid="sign-out"
      method="post"
      className="relative"
      onSubmit={(event) => {
        event.preventDefault();
        startTransition(async () => {
          const r = await callAction(action);
          setError(r && typeof r === "object" && !r.ok ? r.error : null);
        });
      }}
    >
      <Button type="submit" variant="secondary" disabled={pending || !hydrated}>
        {pending ? "Signing out…" : "Sign out"}
      </Button>
      {error && (
        <p role="alert" className="absolute right-0 top-full z-10 mt-1 w-80 rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800 shadow">
          {error}
        </p>
      )}
    </form>
  );
}
