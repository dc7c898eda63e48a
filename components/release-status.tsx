// A release's lifecycle status at a glance, the same on every page: on its way blue, accepted/approved green,
// rejected red, released green, withdrawn grey.
import { Badge } from "./ui";

type Tone = "gray" | "green" | "amber" | "red" | "blue";

export const RELEASE_STATUS: Record<string, { label: string; tone: Tone }> = {
  CANDIDATE: { label: "candidate", tone: "blue" },
  ACCEPTED: { label: "accepted", tone: "green" },
  REJECTED: { label: "rejected", tone: "red" },
  APPROVED: { label: "approved", tone: "green" },
  RELEASED: { label: "released", tone: "green" },
  WITHDRAWN: { label: "withdrawn", tone: "gray" },
};

export function ReleaseStatusBadge({ status }: { status: string }) {
  const s = RELEASE_STATUS[status] ?? { label: status.toLowerCase(), tone: "gray" as const };
  return (
    <span data-testid="release-status">
      <Badge tone={s.tone}>{s.label}</Badge>
    </span>
  );
}
