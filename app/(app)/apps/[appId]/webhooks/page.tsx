import type { Metadata } from "next";
import Link from "next/link";
import { PageHeader } from "@/components/ui";
import { WebhookList } from "@/components/webhook-list";
import { getApplication } from "@/lib/applications/get-application";
import { loadForPage, pageIds, requirePageActor } from "@/lib/entry/page";
import { listWebhooks } from "@/lib/notifications/list-webhooks";
import { createWebhookAction, deleteWebhookAction } from "./actions";

export const metadata: Metadata = { title: "Webhooks" };
export const dynamic = "force-dynamic";

// Outgoing webhooks of an application, for ops and administrators (others get the 404, and the denial is audited).
export default async function WebhooksPage({ params }: { params: Promise<{ appId: string }> }) {
  const { appId } = await pageIds(params);
  const actor = await requirePageActor();
  const [app, hooks] = await loadForPage(() => Promise.all([getApplication(actor, appId), listWebhooks(actor, appId)]), "an application's webhooks");
  return (
    <>
      <PageHeader
        title={`${app.name}: webhooks`}
        subtitle={
          <Link href={`/apps/${app.id}`} className="text-indigo-700 hover:underline">
            ← back to {app.name}
          </Link>
        }
      />
      <WebhookList
        applicationId={app.id}
        create={createWebhookAction}
        remove={deleteWebhookAction}
        webhooks={hooks.map((h) => ({
          id: h.id,
          url: h.url,
          events: h.events,
          created: h.createdAt.toISOString(),
          deliveries: h.deliveries.map((d) => ({
            id: d.id,
            event: d.event,
            state: d.state,
            attempts: d.attempts,
            lastError: d.lastError,
            nextAttemptAt: d.nextAttemptAt.toISOString(),
            createdAt: d.createdAt.toISOString(),
            deliveredAt: d.deliveredAt?.toISOString() ?? null,
          })),
        }))}
      />
    </>
  );
}
