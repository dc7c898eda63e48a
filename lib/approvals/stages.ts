// Which environment is "acceptance" and which one approvals are for, decided from an application's lifecycle.
// Pure, so the verdict and approval functions, the home page and the notifications agree (stages.test.ts).
//
// The policy (lib/releases/policy.ts) puts the gates on the environment they protect: `requiresAcceptance` on
// Production means "a customer must have accepted these bytes before they go to Production". The customer tests
// in the environment just before that gate, so:
//   acceptance environment = the one immediately before the first environment that requires acceptance;
//   with no such gate, the one immediately before production (the customer may still record a verdict);
//   none when the gate or production is the very first environment (there is nowhere to test first).
// Approvals are given for the environment that requires them: the first one with requiredApprovals > 0, or
// production when none asks for them.

export interface StageEnvironment {
  id: string;
  name: string;
  position: number;
  isProduction: boolean;
  requiresAcceptance: boolean;
  requiredApprovals: number;
}

const inOrder = <E extends StageEnvironment>(envs: readonly E[]) => [...envs].sort((a, b) => a.position - b.position);

/** The environment where customers test and give their verdict; null when the lifecycle has none. */
export function acceptanceEnvironment<E extends StageEnvironment>(envs: readonly E[]): E | null {
  const ordered = inOrder(envs);
  let gate = ordered.findIndex((e) => e.requiresAcceptance);
  if (gate < 0) gate = ordered.findIndex((e) => e.isProduction);
  return gate > 0 ? ordered[gate - 1]! : null;
}

/** The environment approvals are given for; null when the application has neither approvals nor production. */
export function approvalEnvironment<E extends StageEnvironment>(envs: readonly E[]): E | null {
  const ordered = inOrder(envs);
  return ordered.find((e) => e.requiredApprovals > 0) ?? ordered.find((e) => e.isProduction) ?? null;
}

/** The production environment (the first marked so), where "what changed since production" is measured from. */
export function productionEnvironment<E extends StageEnvironment>(envs: readonly E[]): E | null {
  return inOrder(envs).find((e) => e.isProduction) ?? null;
}

/**
 * A release's notes reduced to their first line, as a title: "## Faster checkout" -> "Faster checkout". Lists show
 * the version beside it, so a line that only names the release ("## 1.2.0", "Release 1.2.0") is skipped.
 */
export function notesTitle(notes: string, version?: string, max = 120): string {
  const namesOnly = (l: string) =>
    version !== undefined && l.replace(/^(release|version)\s+/i, "").replace(/^v(?=\d)/i, "").replace(/\s*\([^)]*\)\s*$/, "").replace(/[:.\s]+$/, "") === version;
  const line = notes
    .split(/\r?\n/)
    .map((l) => l.replace(/^\s*(#{1,6}\s+|[-*+]\s+|>\s*)/, "").trim())
    .find((l) => l.length > 0 && !namesOnly(l));
  if (!line) return "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
