"use client";

import { useEffect, useState } from "react";
import { formatDuration } from "./deployment-status";

/**
 * Time since `since` (until `until` when it ended), ticking every second while open. The first render uses the
 * server's `now`, so the server's HTML and the browser's first render agree.
 */
export function Elapsed({ since, until, now }: { since: string; until?: string | null; now: string }) {
  const [current, setCurrent] = useState(() => Date.parse(now));
  useEffect(() => {
    if (until) return;
    setCurrent(Date.now());
    const timer = setInterval(() => setCurrent(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [until]);
  const end = until ? Date.parse(until) : current;
  return <span className="tabular-nums">{formatDuration(end - Date.parse(since))}</span>;
}
