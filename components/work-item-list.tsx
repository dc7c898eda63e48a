// The actions waiting on a person (lib/home/list-work-items.ts): on the home page for everything, on an
// application's page for that application.
import Link from "next/link";
import { Badge } from "./ui";

export interface WorkItemRow {
  kind: "accept" | "approve" | "promote" | "fix" | "setup";
  title: string;
  detail: string;
  href: string;
}

const KIND_LABEL = { accept: "Test", approve: "Approve", promote: "Promote", fix: "Fix", setup: "Set up" } as const;
const KIND_TONE = { accept: "blue", approve: "amber", promote: "green", fix: "red", setup: "gray" } as const;

export function WorkItemList({ items }: { items: WorkItemRow[] }) {
  return (
    <ul className="divide-y divide-slate-100" data-testid="work-items">
      {items.map((w) => (
        <li key={`${w.kind}:${w.href}:${w.title}`} className="flex items-start gap-3 py-3">
          <Badge tone={KIND_TONE[w.kind]}>{KIND_LABEL[w.kind]}</Badge>
          <div>
            <Link href={w.href} className="text-sm font-medium text-indigo-700 hover:underline">
              {w.title}
            </Link>
            <p className="text-sm text-slate-600">{w.detail}</p>
          </div>
        </li>
      ))}
    </ul>
  );
}
