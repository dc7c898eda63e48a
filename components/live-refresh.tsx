"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

/** How often the page is re-read when the event stream is unavailable. */
const FALLBACK_REFRESH_MS = 5_000;

/**
 * Keeps a server-rendered page current without reloading it: listens to a Server-Sent Events feed and re-reads the
 * page (router.refresh(), which keeps scroll position, open details and typed input) on every `change`. If the feed
 * cannot be used (a proxy that buffers, a dropped connection the browser gives up on), it re-reads every 5 s
 * instead, and says so. Stops on `end`; the page then renders without this component.
 */
export function LiveRefresh({ url }: { url: string }) {
  const router = useRouter();
  const [mode, setMode] = useState<"connecting" | "live" | "polling">("connecting");

  useEffect(() => {
    let poll: ReturnType<typeof setInterval> | undefined;
    const startPolling = () => {
      setMode("polling");
      poll ??= setInterval(() => router.refresh(), FALLBACK_REFRESH_MS);
    };
    if (typeof EventSource === "undefined") {
      startPolling();
      return () => clearInterval(poll);
    }
    const source = new EventSource(url);
    source.addEventListener("open", () => {
      setMode("live");
      if (poll) {
        clearInterval(poll);
        poll = undefined;
      }
    });
    source.addEventListener("change", () => router.refresh());
    source.addEventListener("end", () => {
      source.close();
      router.refresh();
    });
    source.addEventListener("error", () => {
      // The browser retries by itself while CONNECTING; CLOSED means it gave up (an error status, a wrong type).
      // Either way the page keeps moving by re-reading it until the feed is back.
      startPolling();
      if (source.readyState === EventSource.CLOSED) router.refresh();
    });
    return () => {
      source.close();
      clearInterval(poll);
    };
  }, [url, router]);

  return (
    <span className="inline-flex items-center gap-1.5 text-xs text-slate-500" data-testid="live-indicator" data-mode={mode}>
      <span className={`inline-block h-2 w-2 rounded-full ${mode === "live" ? "animate-pulse bg-emerald-500" : "bg-amber-400"}`} aria-hidden />
      {mode === "live" ? "Live" : mode === "polling" ? "Refreshing every 5 s" : "Connecting…"}
    </span>
  );
}
