// The closed list of audit event types. Adding a type is a code change reviewed like any other; the writer refuses
// anything not listed here. Each value says what happened, in the past tense.
export const AUDIT_EVENT_TYPES = {
  // people and sessions
  PLATFORM_ADMIN_BOOTSTRAPPED: "the first-run administrator was created",
  USER_SIGNED_IN: "a person signed in",
  USER_SIGNED_OUT: "a person signed out",
  USER_SIGN_IN_FAILED: "a sign-in failed (wrong password, unknown or disabled account, throttled)",
  USER_SIGN_IN_THROTTLED: "sign-in attempts from one address were refused by throttling: one event per address and window, with the count",
  USER_PASSWORD_CHANGE_FAILED: "someone signed in as a user gave a wrong current password when changing it",
  USER_CREATED: "a user account was created",
  USER_UPDATED: "a user's name, customer or admin flag changed",
  USER_DISABLED: "a user was disabled; their sessions were revoked",
  USER_ENABLED: "a disabled user was enabled again",
  USER_PASSWORD_CHANGED: "a user changed their own password",
  USER_PASSWORD_RESET: "an administrator reset a user's password",
  ROLE_GRANTED: "a user was given a role on an application",
  ROLE_REVOKED: "a user's role on an application was removed",
  PERMISSION_DENIED: "an action was refused for lack of permission",
  DEPLOYMENT_REFUSED: "a deployment was refused by the environment's gates (earlier stage, acceptance, approvals, freeze...), with their words",
  // tenants and structure
  CUSTOMER_CREATED: "a customer (tenant) was created",
  CUSTOMER_UPDATED: "a customer was renamed",
  APPLICATION_CREATED: "an application was created with its default environments",
  APPLICATION_UPDATED: "an application's name or description changed",
  ENVIRONMENT_CREATED: "an environment was added to an application",
  ENVIRONMENT_UPDATED: "an environment's name or policy changed",
  ENVIRONMENTS_REORDERED: "an application's environments were put in a new order",
  ENVIRONMENT_DELETED: "an environment was removed",
  // servers and their agents
  TARGET_ADDED: "a server was added to an environment; a one-time enrollment token was issued",
  TARGET_REMOVED: "a server was removed from an environment",
  AGENT_ENROLLED: "an agent exchanged its enrollment token for its own secret",
  AGENT_ENROLLMENT_REISSUED: "the agent's secret was rotated: the old one stopped working and a new enrollment token was issued",
  AGENT_REVOKED: "an agent's secret was revoked; the agent is refused from its next call",
  TARGET_UPDATED: "a server's own load-balancer settings changed (before balancers were defined per environment)",
  BALANCER_CREATED: "a load balancer was defined for an environment (HAProxy runtime API or drain/undrain commands)",
  BALANCER_UPDATED: "a load balancer was renamed or is reached differently",
  BALANCER_DELETED: "a load balancer was removed, with the servers that were behind it",
  BALANCER_MEMBER_ADDED: "a server was put behind a load balancer (backend and name there)",
  BALANCER_MEMBER_REMOVED: "a server was taken off a load balancer",
  CONFIGURATION_APPLIED: "an application's configuration file was applied: every change it made, as one event (new servers' tokens are not recorded)",
  // sites (data centres) of an environment
  SITE_CREATED: "a site (data centre) was added to an environment",
  SITE_RENAMED: "a site was renamed",
  SITES_REORDERED: "an environment's sites were put in a new order (the order rollouts walk them in)",
  SITE_DELETED: "an empty site was removed from an environment",
  TARGET_SITE_CHANGED: "a server was put in a site, moved to another, or taken out of its site",
  // build pipelines
  API_TOKEN_CREATED: "an API token for a build pipeline was created (only its hash is kept)",
  API_TOKEN_REVOKED: "an API token was revoked",
  // releases
  RELEASE_CREATED: "a release candidate was uploaded with its artifact's SHA-256",
  RELEASE_ACCEPTED: "a customer accepted a release after testing it in acceptance (bound to its SHA-256)",
  RELEASE_REJECTED: "a customer rejected a release, with the reason (bound to its SHA-256)",
  RELEASE_APPROVED: "someone approved a release for an environment (bound to its SHA-256); the release is approved once enough have",
  // change freezes
  FREEZE_CREATED: "a change freeze was put on an environment (start, end, reason)",
  FREEZE_ENDED: "a change freeze was lifted before its planned end",
  // integrations
  WEBHOOK_CREATED: "an outgoing webhook was added to an application (its secret is not recorded)",
  WEBHOOK_DELETED: "an outgoing webhook was removed with its delivery history",
  // deployments and their rollouts
  DEPLOYMENT_REQUESTED: "a deployment of a release to an environment was requested",
  REVERT_REQUESTED: "a revert of an environment to its previous release was requested",
  DEPLOYMENT_CANCEL_REQUESTED: "someone asked a running deployment to stop",
  DEPLOYMENT_STARTED: "the rollout engine started a deployment",
  DEPLOYMENT_STEP_FINISHED: "an agent reported a step's result on its server (staged, activated, rolled back, failed, interrupted)",
  DEPLOYMENT_PAUSED: "a rollout finished its first site and waits for someone to continue it to the next site",
  DEPLOYMENT_CONTINUED: "someone continued a rollout that was paused after its first site",
  DEPLOYMENT_ANALYSIS_PASSED: "a server's post-deploy analysis passed: its figures over the bake (or why there was too little to judge)",
  DEPLOYMENT_ANALYSIS_FAILED: "a server's post-deploy analysis failed, naming the figure over its limit; the rollout halts and rolls back",
  DEPLOYMENT_ANALYSIS_STOPPED: "ops stopped a deployment while a server was being watched: the figures so far, no verdict",
  DEPLOYMENT_ROLLING_BACK: "a deployment failed on a server; the updated servers are being returned to the previous release",
  DEPLOYMENT_SUCCEEDED: "a deployment finished: every server runs the release",
  DEPLOYMENT_FAILED: "a deployment ended failed, with the reason",
  DEPLOYMENT_CANCELLED: "a deployment ended cancelled",
} as const;

export type AuditEventType = keyof typeof AUDIT_EVENT_TYPES;

export const isAuditEventType = (t: string): t is AuditEventType => Object.hasOwn(AUDIT_EVENT_TYPES, t);
