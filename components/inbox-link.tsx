import Link from "next/link";

/** The navigation's link to the inbox with the unread count (lib/notifications/list-notifications.ts counts). */
export function InboxLink({ unread }: { unread: number }) {
  return (
    <Link href="/inbox" className="inline-flex items-center gap-1.5 text-slate-600 hover:text-slate-900" data-testid="inbox-link">
      Inbox
      {unread > 0 && (
        <span className="rounded-full bg-indigo-600 px-1.5 py-0.5 text-xs font-semibold leading-none text-white" aria-label={`${unread} unread`}>
          {unread > 99 ? "99+" : unread}
        </span>
      )}
    </Link>
  );
}
