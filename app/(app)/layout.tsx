import Link from "next/link";
import type { ReactNode } from "react";
import { InboxLink } from "@/components/inbox-link";
import { SignOutButton } from "@/components/sign-out-button";
import { countUnreadNotifications } from "@/lib/notifications/list-notifications";
import { auditableApplicationIds } from "@/lib/auth/permissions";
import { requirePageActor } from "@/lib/entry/page";
import { signOutAction } from "./actions";

export default async function AppLayout({ children }: { children: ReactNode }) {
  const actor = await requirePageActor();
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white print:hidden">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-x-6 gap-y-2 px-6 py-3">
          <nav className="flex flex-wrap items-center gap-x-6 gap-y-1 text-sm">
            <Link href="/" className="text-base font-semibold tracking-tight text-slate-900">
              Releasegate
            </Link>
            <Link href="/" className="text-slate-600 hover:text-slate-900">
              Home
            </Link>
            {actor.isPlatformAdmin && (
              <>
                <Link href="/admin/customers" className="text-slate-600 hover:text-slate-900">
                  Customers &amp; applications
                </Link>
                <Link href="/admin/users" className="text-slate-600 hover:text-slate-900">
                  Users
                </Link>
              </>
            )}
            {auditableApplicationIds(actor)?.length !== 0 ? (
              <Link href="/audit" className="text-slate-600 hover:text-slate-900">
                Audit
              </Link>
            ) : null}
          </nav>
          <div className="flex flex-wrap items-center gap-3 text-sm">
            <InboxLink unread={await countUnreadNotifications(actor)} />
            <span className="text-slate-600" data-testid="signed-in-as">
              {actor.name} <span className="hidden text-slate-500 md:inline">({actor.email})</span>
            </span>
            <Link href="/account/password" className="text-slate-600 hover:text-slate-900">
              Password
            </Link>
            <SignOutButton action={signOutAction} />
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-6 py-8">{children}</main>
    </div>
  );
}
