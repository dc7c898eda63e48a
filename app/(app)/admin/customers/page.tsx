import type { Metadata } from "next";
import Link from "next/link";
import { ActionForm, Field, SelectField } from "@/components/form";
import { Card, EmptyState, PageHeader, plural } from "@/components/ui";
import { listCustomers } from "@/lib/customers/list-customers";
import { loadForPage, requirePageActor } from "@/lib/entry/page";
import { createApplicationAction, createCustomerAction } from "./actions";

export const metadata: Metadata = { title: "Customers & applications" };

export default async function CustomersPage() {
  const actor = await requirePageActor();
  const customers = await loadForPage(() => listCustomers(actor), "the customer list");
  return (
    <>
      <PageHeader title="Customers & applications" subtitle="Each customer is a tenant: its people see only its applications." />
      <div className="grid items-start gap-6 lg:grid-cols-3">
        <div className="space-y-4 lg:col-span-2">
          {customers.length === 0 && <EmptyState title="No customers yet.">Create the first one on the right.</EmptyState>}
          {customers.map((c) => (
            <Card key={c.id} title={c.name} actions={<span className="text-xs text-slate-500">{plural(c._count.users, "customer user")}</span>}>
              {c.applications.length === 0 ? (
                <p className="text-sm text-slate-500">No applications yet.</p>
              ) : (
                <ul className="space-y-1 text-sm">
                  {c.applications.map((a) => (
                    <li key={a.id} className="flex items-center justify-between">
                      <Link href={`/apps/${a.id}`} className="font-medium text-indigo-700 hover:underline">
                        {a.name}
                      </Link>
                      <Link href={`/apps/${a.id}/settings`} className="text-slate-500 hover:text-slate-800">
                        Environments &amp; people →
                      </Link>
                    </li>
                  ))}
                </ul>
              )}
            </Card>
          ))}
        </div>
        <div className="space-y-6">
          <Card title="New customer">
            <ActionForm action={createCustomerAction} submitLabel="Create customer">
              <Field name="name" label="Name" placeholder="Acme Retail" />
            </ActionForm>
          </Card>
          <Card title="New application">
            {customers.length === 0 ? (
              <p className="text-sm text-slate-500">Create a customer first.</p>
            ) : (
              <ActionForm action={createApplicationAction} submitLabel="Create application">
                <SelectField name="customerId" label="Customer" options={[{ value: "", label: "Choose…" }, ...customers.map((c) => ({ value: c.id, label: c.name }))]} />
                <Field name="name" label="Name" placeholder="Webshop" />
                <Field name="description" label="Description" placeholder="Optional" />
              </ActionForm>
            )}
          </Card>
        </div>
      </div>
    </>
  );
}
