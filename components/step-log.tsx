"use client";

import { useEffect, useRef, useState } from "react";
import { describeLogGap, type LogGap } from "./step-log-gap";

interface LogTail {
  text: string;
  /** The text with the holes it spans (lib/deployments/read-step-logs.ts); absent from an older server. */
  segments?: ({ text: string } | { gap: LogGap })[];
  gapsBefore?: number;
  omittedBytes: number;
  totalBytes: number;
}

/**
 * A step's log, loaded when opened and re-loaded when the step reports more (`nextSeq` grows as the page refreshes
 * live), scrolled to its end. Only the tail is fetched: the last 64 KB, where a failure shows. Lines that are not
 * there (lost, or not arrived yet) are marked where they belong, set apart from the log's own text so no output can
 * imitate the mark.
 */
export function StepLog({ url, nextSeq, defaultOpen = false, label }: { url: string; nextSeq: number; defaultOpen?: boolean; label: string }) {
  const [open, setOpen] = useState(defaultOpen);
  const [log, setLog] = useState<LogTail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pre = useRef<HTMLPreElement>(null);

  // A step that fails while the page is open shows its log by itself: that is where the reason is.
  useEffect(() => {
    if (defaultOpen) setOpen(true);
  }, [defaultOpen]);

  useEffect(() => {
    if (!open) return;
    const abort = new AbortController();
    fetch(url, { signal: abort.signal, cache: "no-store" })
      .then(async (r) => {
        if (!r.ok) throw new Error(r.status === 404 ? "This log is not available." : `Could not load the log (HTTP ${r.status}).`);
        setLog((await r.json()) as LogTail);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setError(e instanceof Error ? e.message : "Could not load the log.");
      });
    return () => abort.abort();
  }, [open, url, nextSeq]);

  useEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [log]);

  return (
    <details open={open} onToggle={(e) => setOpen(e.currentTarget.open)} className="mt-1">
      <summary className="cursor-pointer select-none text-xs font-medium text-indigo-700">
        {label}
        {nextSeq === 0 ? " (empty)" : ""}
      </summary>
      {open && (
        <div className="mt-1">
          {error && <p className="text-xs text-rose-700">{error}</p>}
          {!log && !error && <p className="text-xs text-slate-500">Loading…</p>}
          {log && (
            <>
              {log.omittedBytes > 0 && (
                <p className="text-xs text-slate-500">
                  Showing the last {Math.round((log.totalBytes - log.omittedBytes) / 1024)} KB of {Math.round(log.totalBytes / 1024)} KB
                  {log.gapsBefore ? `; the part not shown has ${log.gapsBefore === 1 ? "a gap" : `${log.gapsBefore} gaps`} (lines that did not arrive)` : ""}.
                </p>
              )}
              <pre
                ref={pre}
                data-testid="step-log"
                className="mt-1 max-h-80 overflow-auto whitespace-pre-wrap break-all rounded-md bg-slate-900 p-3 font-mono text-xs leading-relaxed text-slate-100"
              >
                {(log.segments ?? [{ text: log.text }]).map((segment, i) =>
                  "gap" in segment ? (
                    <span
                      key={i}
                      role="note"
                      data-testid="step-log-gap"
                      className="my-1 block rounded border border-amber-400 bg-amber-100 px-2 py-1 font-sans text-amber-900"
                    >
                      {describeLogGap(segment.gap)}
                    </span>
                  ) : (
                    <span key={i}>{segment.text}</span>
                  ),
                )}
                {!log.text && !log.segments?.length && "No output yet."}
              </pre>
            </>
          )}
        </div>
      )}
    </details>
  );
}
