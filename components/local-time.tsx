"use client";

// Times people plan by (a scheduled deployment, a maintenance window) in the viewer's own time zone, named, so
// nobody converts in their head; the title keeps the UTC instant the audit record uses.
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { formatDuration, formatTime } from "./deployment-status";

/**
 * "Tue, Nov 24, 2026, 22:00 America/New_York". The server renders UTC (it does not know the viewer's zone); the
 * browser then shows the local time, so the first render matches the server's HTML.
 */
export function LocalTime({ iso, testId }: { iso: string; testId?: string }) {
  const [local, setLocal] = useState<string | null>(null);
  useEffect(() => {
    const at = new Date(iso);
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const text = new Intl.DateTimeFormat(undefined, {
      weekday: "short",
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      ...(at.getUTCSeconds() ? { second: "2-digit" } : {}),
      hourCycle: "h23",
    }).format(at);
    setLocal(`${text} ${zone}`);
  }, [iso]);
  const utc = formatTime(iso, new Date(iso).getUTCSeconds() !== 0);
  return (
    <time dateTime={iso} title={utc} data-testid={testId}>
      {local ?? utc}
    </time>
  );
}

/**
 * "in 2 h 03 min", ticking every second; "due now" once the time has come. `now` is the server's, for the first
 * render. With `refreshWhenDue`, the page reloads its data every few seconds once the time has come, so whoever
 * keeps it open sees the deployment start (or be refused) without reloading; the countdown leaves the page then.
 */
export function Countdown({ to, now, refreshWhenDue = false }: { to: string; now: string; refreshWhenDue?: boolean }) {
  const [current, setCurrent] = useState(() => Date.parse(now));
  const router = useRouter();
  useEffect(() => {
    setCurrent(Date.now());
    const timer = setInterval(() => setCurrent(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  const left = Date.parse(to) - current;
  const due = left <= 0;
  useEffect(() => {
    if (!due || !refreshWhenDue) return;
    // The sweep starts due deployments every 2 s.
    router.refresh();
    const timer = setInterval(() => router.refresh(), 2_500);
    return () => clearInterval(timer);
  }, [due, refreshWhenDue, router]);
  return (
    <span className="tabular-nums" data-testid="countdown">
      {left > 0 ? `in ${formatDuration(left)}` : "due now"}
    </span>
  );
}
