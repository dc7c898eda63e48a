import type { Metadata } from "next";
import Link from "next/link";
import { FreezeForm, FreezeList } from "@/components/freeze-form";
import { Card, PageHeader } from "@/components/ui";
import { freezeRows, listFreezes } from "@/lib/approvals/list-freezes";
import { getApplication } from "@/lib/applications/get-application";
import { can } from "@/lib/auth/permissions";
import { loadForPage, pageIds, requirePageActor } from "@/lib/entry/page";
import { createFreezeAction, endFreezeAction } from "./actions";

export const metadata: Metadata = { title: "Freezes" };
export const dynamic = "force-dynamic";

// Change freezes per environment: everyone on the application sees them; ops plan, lift and call them off.
export default async function FreezesPage({ params }: { params: Promise<{ appId: string }> }) {
  const { appId } = await pageIds(params);
  const actor = await requirePageActor();
  const [app, environments] = await loadForPage(() => Promise.all([getApplication(actor, appId), listFreezes(actor, appId, { past: 10 })]), "an application's freezes");
  const manage = can(actor, "freeze.manage", app.id);
  return (
    <>
      <PageHeader
        title={`${app.name}: freezes`}
        subtitle={
          <>
            <Link href={`/apps/${app.id}`} className="text-indigo-700 hover:underline">
              ← back to {app.name}
            </Link>
            {" · "}Deployments to a frozen environment are refused unless ops override the freeze with a recorded reason. Reverts are never blocked.
          </>
        }
      />
      <div className="space-y-6">
        {environments.map((e) => (
          <Card key={e.id} title={e.name}>
            <FreezeList
              environmentName={e.name}
              end={manage ? endFreezeAction : undefined}
              freezes={freezeRows(e.freezes)}
            />
            {manage && (
              <details className="mt-4 border-t border-slate-100 pt-3" data-testid={`freeze-form-${e.name}`}>
                <summary className="cursor-pointer text-sm font-medium text-indigo-700">Freeze {e.name}…</summary>
                <div className="mt-3">
                  <FreezeForm environmentId={e.id} environmentName={e.name} create={createFreezeAction} />
                </div>
              </details>
            )}
          </Card>
        ))}
      </div>
    </>
  );
}
