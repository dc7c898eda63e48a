"use client";

// The inbox: notifications newest first, unread ones marked. Each opens its page in a new tab (the inbox stays, so a
// person works through it) and is marked read as it opens. A request to test, approve, promote or fix says when it is
// done or no longer needed, worked out from the release's current state (lib/notifications/resolve-asks.ts): it
// then no longer counts as unread.
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import type { ActionResult } from "@/lib/entry/action-result";
import { formatTime } from "./deployment-status";
import { ActionForm, callAction } from "./form";
import { Badge, EmptyState } from "./ui";

type Action = (formData: FormData) => Promise<ActionResult<undefined>>;

export interface InboxItem {
  id: string;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  read: boolean;
  createdAt: string;
  /** What it asked is done, or moot (rejected, withdrawn, replaced by a newer release); null while it stands. */
  resolved: { state: "done" | "moot"; note: string } | null;
}

const TONE: Record<string, "green" | "red" | "amber" | "blue" | "gray"> = {
  "release.ready_for_acceptance": "blue",
  "release.accepted": "green",
  "release.rejected": "red",
  "release.approved": "green",
  "deployment.scheduled": "blue",
  "deployment.started": "gray",
  "deployment.paused": "amber",
  "deployment.succeeded": "green",
  "deployment.failed": "red",
  "deployment.cancelled": "amber",
  "deployment.reverted": "amber",
};

/** Read, or asking for something that is no longer needed: either way nothing waits on the person. */
const settled = (i: InboxItem) => i.read || i.resolved !== null;

function Item({ item, markRead }: { item: InboxItem; markRead: Action }) {
  const router = useRouter();
  const [, startTransition] = useTransition();
  const [error, setError] = useState<string | null>(null);
  // The link opens its page in a new tab by itself; marking read goes alongside and refreshes the list here.
  const opened = () => {
    if (item.read) return;
    startTransition(async () => {
      const data = new FormData();
      data.set("notificationId", item.id);
      const r = await callAction(() => markRead(data));
      setError(r.ok ? null : `Could not mark it read. ${r.error}`);
      router.refresh();
    });
  };
  const title = item.link ? (
    <a href={item.link} target="_blank" rel="noopener" onClick={opened} onAuxClick={opened} className="text-left text-sm font-medium text-indigo-700 hover:underline">
      {item.title}
    </a>
  ) : (
    <span className="text-sm font-medium text-slate-800">{item.title}</span>
  );
  return (
    <li
      className={`flex items-start gap-3 py-3 ${settled(item) ? "" : "bg-indigo-50/40"} ${item.resolved ? "opacity-75" : ""}`}
      data-testid="notification"
      data-read={item.read ? "true" : "false"}
      data-resolved={item.resolved?.state ?? "open"}
    >
      <span className={`mt-1.5 h-2 w-2 shrink-0 rounded-full ${settled(item) ? "bg-transparent" : "bg-indigo-600"}`} aria-label={settled(item) ? undefined : "unread"} />
      <div className="min-w-0 flex-1">
        {title}
        {item.body && <p className="text-sm text-slate-700">{item.body}</p>}
        {item.resolved && (
          <p className="mt-0.5 text-sm text-slate-600" data-testid="notification-resolved">
            <Badge tone={item.resolved.state === "done" ? "green" : "gray"}>{item.resolved.state === "done" ? "done" : "no longer needed"}</Badge> {item.resolved.note}
          </p>
        )}
        <p className="mt-0.5 text-xs text-slate-500">
          <Badge tone={TONE[item.kind] ?? "gray"}>{item.kind.replace(/^\w+\./, "").replace(/_/g, " ")}</Badge> {formatTime(item.createdAt)}
        </p>
        {error && (
          <p role="alert" className="mt-1 text-xs text-rose-700">
            {error}
          </p>
        )}
      </div>
    </li>
  );
}

export function InboxList({ items, markRead }: { items: InboxItem[]; markRead: Action }) {
  if (items.length === 0) return <EmptyState title="Your inbox is empty.">Releases to test or approve, and how deployments went, appear here.</EmptyState>;
  const unread = items.filter((i) => !settled(i)).length;
  return (
    <div>
      <div className="mb-2 flex items-center justify-between">
        <p className="text-sm text-slate-600" data-testid="unread-count">
          {unread === 0 ? "All read." : `${unread} unread`}
        </p>
        {unread > 0 && <ActionForm action={markRead} inline variant="secondary" submitLabel="Mark all read" />}
      </div>
      <ul className="divide-y divide-slate-100" data-testid="notifications">
        {items.map((i) => (
          <Item key={i.id} item={i} markRead={markRead} />
        ))}
      </ul>
    </div>
  );
}
