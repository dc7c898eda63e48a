"use client";

// The inbox: notifications newest first, unread ones marked; opening one marks it read and goes where it points.
import { useRouter } from "next/navigation";
import { useTransition } from "react";
import type { ActionResult } from "@/lib/entry/action-result";
import { formatTime } from "./deployment-status";
import { ActionForm } from "./form";
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
}

const TONE: Record<string, "green" | "red" | "amber" | "blue" | "gray"> = {
  "release.ready_for_acceptance": "blue",
  "release.accepted": "green",
  "release.rejected": "red",
  "release.approved": "green",
  "deployment.scheduled": "blue",
  "deployment.started": "gray",
  "deployment.succeeded": "green",
  "deployment.failed": "red",
  "deployment.cancelled": "amber",
  "deployment.reverted": "amber",
};

function Item({ item, markRead }: { item: InboxItem; markRead: Action }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const open = () =>
    startTransition(async () => {
      if (!item.read) {
        const data = new FormData();
        data.set("notificationId", item.id);
        await markRead(data);
      }
      if (item.link) router.push(item.link);
      else router.refresh();
    });
  return (
    <li className={`flex items-start gap-3 py-3 ${item.read ? "" : "bg-indigo-50/40"}`} data-testid="notification" data-read={item.read ? "true" : "false"}>
      <span className={`mt-1.5 h-2 w-2 shrink-0 rounded-full ${item.read ? "bg-transparent" : "bg-indigo-600"}`} aria-label={item.read ? undefined : "unread"} />
      <div className="min-w-0 flex-1">
        <button type="button" onClick={open} disabled={pending} className="text-left text-sm font-medium text-indigo-700 hover:underline disabled:opacity-60">
          {item.title}
        </button>
        {item.body && <p className="text-sm text-slate-700">{item.body}</p>}
        <p className="mt-0.5 text-xs text-slate-500">
          <Badge tone={TONE[item.kind] ?? "gray"}>{item.kind.replace(/^\w+\./, "").replace(/_/g, " ")}</Badge> {formatTime(item.createdAt)}
        </p>
      </div>
    </li>
  );
}

export function InboxList({ items, markRead }: { items: InboxItem[]; markRead: Action }) {
  if (items.length === 0) return <EmptyState title="Your inbox is empty.">Releases to test or approve, and how deployments went, appear here.</EmptyState>;
  const unread = items.filter((i) => !i.read).length;
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
