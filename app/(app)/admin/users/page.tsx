import type { Metadata } from "next";
import { ActionForm, CheckboxField, Field, SelectField } from "@/components/form";
import { Badge, Card, EmailAddress, PageHeader, plural, ROLE_LABELS } from "@/components/ui";
import { listCustomers } from "@/lib/customers/list-customers";
import { loadForPage, requirePageActor } from "@/lib/entry/page";
import { listUsers } from "@/lib/users/list-users";
import { createUserAction, resetUserPasswordAction, setUserStatusAction } from "./actions";

export const metadata: Metadata = { title: "Users" };

export default async function UsersPage() {
  const actor = await requirePageActor();
  const [users, customers] = await loadForPage(() => Promise.all([listUsers(actor), listCustomers(actor)]), "the user list");
  return (
    <>
      <PageHeader title="Users" subtitle="Accounts, their customer, and their roles. Give roles on an application's settings page." />
      <div className="grid items-start gap-6 lg:grid-cols-3">
        <Card title={plural(users.length, "user")} className="min-w-0 lg:col-span-2">
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" data-testid="users-table">
              <thead className="text-xs uppercase text-slate-500">
                <tr>
                  <th className="py-2">Person</th>
                  <th>Roles</th>
                  <th>Status</th>
                  <th className="text-right">Actions</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {users.map((u) => (
                  <tr key={u.id} data-testid={`user-row-${u.email}`}>
                    <td className="py-3 pr-2 align-top">
                      <div className="font-medium">{u.name}</div>
                      <div className="text-slate-500">
                        <EmailAddress address={u.email} />
                      </div>
                      <div className="text-xs text-slate-500">{u.customer ? `Customer: ${u.customer.name}` : "Staff"}</div>
                    </td>
                    <td className="py-3 pr-2 align-top">
                      {/* One line per role: the role as a badge, the application as text that may wrap. */}
                      <ul className="space-y-1">
                        {u.isPlatformAdmin && (
                          <li>
                            <Badge tone="amber">Platform admin</Badge>
                          </li>
                        )}
                        {u.memberships.map((m) => (
                          <li key={m.id} className="flex items-start gap-1.5">
                            <Badge tone="blue">{ROLE_LABELS[m.role]}</Badge>
                            <span className="text-slate-700">{m.application.name}</span>
                          </li>
                        ))}
                        {!u.isPlatformAdmin && u.memberships.length === 0 && <li className="text-slate-500">none</li>}
                      </ul>
                    </td>
                    <td className="py-3 pr-2 align-top">
                      {u.status === "ACTIVE" ? <Badge tone="green">Active</Badge> : <Badge tone="red">Disabled</Badge>}
                      {u.mustChangePassword && <div className="mt-1 text-xs text-slate-500">has not chosen a password</div>}
                    </td>
                    <td className="py-3 text-right align-top">
                      {u.id !== actor.id && (
                        <div className="flex flex-col items-end gap-2">
                          <ActionForm
                            action={setUserStatusAction}
                            inline
                            variant={u.status === "ACTIVE" ? "danger" : "secondary"}
                            submitLabel={u.status === "ACTIVE" ? "Disable" : "Enable"}
                            confirm={u.status === "ACTIVE" ? `Disable ${u.email}? They are signed out at once.` : undefined}
                          >
                            <input type="hidden" name="userId" value={u.id} />
                            <input type="hidden" name="status" value={u.status === "ACTIVE" ? "DISABLED" : "ACTIVE"} />
                          </ActionForm>
                          <ActionForm action={resetUserPasswordAction} inline variant="secondary" submitLabel="Reset password" confirm={`Reset the password of ${u.email}?`}>
                            <input type="hidden" name="userId" value={u.id} />
                          </ActionForm>
                        </div>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Card>
        <Card title="New user">
          <ActionForm action={createUserAction} submitLabel="Create user">
            <Field name="name" label="Name" placeholder="Ana Developer" />
            <Field name="email" label="Email" type="email" placeholder="ana@example.com" />
            <SelectField
              name="customerId"
              label="Works for"
              options={[{ value: "", label: "Our team (staff)" }, ...customers.map((c) => ({ value: c.id, label: `Customer: ${c.name}` }))]}
              hint="A customer's people can only get roles on that customer's applications."
            />
            <CheckboxField name="isPlatformAdmin" label="Platform administrator" />
          </ActionForm>
        </Card>
      </div>
    </>
  );
}
