import Link from "next/link";
import type { TimelineEntry } from "@/lib/releases/release-timeline";
import { formatTime } from "./deployment-status";

const DOT: Record<TimelineEntry["tone"], string> = {
  gray: "bg-slate-400",
  green: "bg-emerald-500",
  amber: "bg-amber-500",
  red: "bg-rose-500",
  blue: "bg-indigo-500",
};

/** A release's history, oldest first (lib/releases/release-timeline.ts says what goes in it). */
export function ReleaseTimeline({ entries }: { entries: TimelineEntry[] }) {
  if (entries.length === 0) return <p className="text-sm text-slate-500">Nothing has happened to this release yet.</p>;
  return (
    <ol className="relative space-y-4 border-l border-slate-200 pl-5" data-testid="release-timeline">
      {entries.map((e) => (
        <li key={e.key} className="relative">
          <span className={`absolute -left-[1.6rem] top-1.5 h-2.5 w-2.5 rounded-full ring-4 ring-white ${DOT[e.tone]}`} aria-hidden />
          <p className="text-sm font-medium text-slate-900">
            {e.href ? (
              <Link href={e.href} className="hover:text-indigo-700 hover:underline">
                {e.title}
              </Link>
            ) : (
              e.title
            )}
          </p>
          <p className="text-xs text-slate-500">
            {formatTime(e.at)}
            {e.actor && <> · {e.actor}</>}
          </p>
          {e.detail && <p className="mt-0.5 text-sm text-slate-600">{e.detail}</p>}
        </li>
      ))}
    </ol>
  );
}
