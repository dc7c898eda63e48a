// What people call each role, on pages and in messages the domain writes ("Nobody holds the Approver role…"). Pure:
// components share it.

export const ROLE_LABELS: Record<string, string> = {
  DEVELOPER: "Developer",
  CUSTOMER: "Customer tester",
  APPROVER: "Approver",
  OPS: "Ops",
  AUDITOR: "Auditor",
};
