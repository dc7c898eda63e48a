import type { Metadata } from "next";
import { InboxList } from "@/components/inbox-list";
import { Card, PageHeader } from "@/components/ui";
import { requirePageActor } from "@/lib/entry/page";
import { listNotifications } from "@/lib/notifications/list-notifications";
import { markNotificationsReadAction } from "./actions";

export const metadata: Metadata = { title: "Inbox" };
export const dynamic = "force-dynamic";

export default async function InboxPage() {
  const actor = await requirePageActor();
  const notifications = await listNotifications(actor, { limit: 100 });
  return (
    <>
      <PageHeader title="Inbox" subtitle="What happened to the releases you work on, and what awaits you." />
      <Card>
        <InboxList
          markRead={markNotificationsReadAction}
          items={notifications.map((n) => ({
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            link: n.link,
            read: n.readAt !== null,
            createdAt: n.createdAt.toISOString(),
            resolved: n.resolved,
          }))}
        />
      </Card>
    </>
  );
}
