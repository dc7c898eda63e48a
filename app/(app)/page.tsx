import Link from "next/link";
import { Badge, Card, EmptyState, PageHeader, ROLE_LABELS } from "@/components/ui";
import { WorkItemList } from "@/components/work-item-list";
import { listApplicationsForActor } from "@/lib/applications/list-applications";
import { listWorkItems } from "@/lib/home/list-work-items";
import { requirePageActor } from "@/lib/entry/page";

export default async function HomePage() {
  const actor = await requirePageActor();
  const [apps, work] = await Promise.all([listApplicationsForActor(actor), listWorkItems(actor)]);
  return (
    <>
      <PageHeader title={`Hello, ${actor.name}`} subtitle="What needs you now, and the applications you work on." />
      <div className="grid items-start gap-6 lg:grid-cols-3">
        <Card title="What needs you now" className="lg:col-span-2">
          {work.length === 0 ? (
            <EmptyState title="Nothing is waiting for you.">Releases that need your test, approval or promotion appear here.</EmptyState>
          ) : (
            <WorkItemList items={work} />
          )}
        </Card>
        <Card title="Your applications">
          {apps.length === 0 ? (
            <EmptyState title="No applications yet.">
              {actor.isPlatformAdmin ? (
                <Link href="/admin/customers" className="text-indigo-700 hover:underline">
                  Create a customer and an application
                </Link>
              ) : (
                "Ask an administrator to give you a role on an application."
              )}
            </EmptyState>
          ) : (
            <ul className="space-y-3" data-testid="applications">
              {apps.map((a) => {
                const roles = [...(actor.roles.get(a.id) ?? [])];
                return (
                  <li key={a.id}>
                    <Link href={`/apps/${a.id}`} className="font-medium text-indigo-700 hover:underline">
                      {a.name}
                    </Link>
                    <span className="text-sm text-slate-500"> · {a.customer.name}</span>
                    <div className="mt-1 flex flex-wrap gap-1">
                      {roles.map((r) => (
                        <Badge key={r} tone="blue">
                          {ROLE_LABELS[r]}
                        </Badge>
                      ))}
                      {roles.length === 0 && actor.isPlatformAdmin && <Badge>Admin</Badge>}
                    </div>
                  </li>
                );
              })}
            </ul>
          )}
        </Card>
      </div>
    </>
  );
}
