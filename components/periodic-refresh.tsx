"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/**
 * Re-reads a server-rendered page every `seconds` while it is visible (router.refresh keeps scroll position, open
 * details and typed input), for figures that change without an event to listen to, like what balancers report.
 */
export function PeriodicRefresh({ seconds, label }: { seconds: number; label: string }) {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") router.refresh();
    }, seconds * 1000);
    return () => clearInterval(timer);
  }, [seconds, router]);
  return (
    <span className="inline-flex items-center gap-1.5 text-xs text-slate-500" data-testid="periodic-refresh">
      <span className="inline-block h-2 w-2 animate-pulse rounded-full bg-emerald-500" aria-hidden />
      {label}
    </span>
  );
}
