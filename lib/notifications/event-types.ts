// The events Releasegate tells people and other systems about: the `kind` of in-app notifications and the `type` of
// webhook deliveries (and what a webhook subscribes to). Pure, shared with the webhook form.
export const NOTIFICATION_EVENTS = {
  "release.ready_for_acceptance": "a release was deployed to the acceptance environment and awaits the customer's test",
  "release.accepted": "a customer accepted a release",
  "release.rejected": "a customer rejected a release, with the reason",
  "release.approved": "someone approved a release for production (the payload says whether enough have)",
  "deployment.scheduled": "a deployment was scheduled for a later time (a maintenance window)",
  "deployment.started": "a deployment or revert started rolling out",
  "deployment.paused": "a rollout finished its first site and waits for someone to continue it to the next",
  "deployment.succeeded": "a deployment finished: every server runs the release",
  "deployment.failed": "a deployment or revert ended failed (servers touched were rolled back)",
  "deployment.cancelled": "a deployment was stopped on request",
  "deployment.reverted": "a revert finished: the environment runs its previous release again",
} as const;

export type NotificationEventType = keyof typeof NOTIFICATION_EVENTS;

export const NOTIFICATION_EVENT_TYPES = Object.keys(NOTIFICATION_EVENTS) as [NotificationEventType, ...NotificationEventType[]];

/** Short labels for forms and lists. */
export const NOTIFICATION_EVENT_LABELS: Record<NotificationEventType, string> = {
  "release.ready_for_acceptance": "Ready for acceptance",
  "release.accepted": "Accepted",
  "release.rejected": "Rejected",
  "release.approved": "Approved",
  "deployment.scheduled": "Deployment scheduled",
  "deployment.started": "Deployment started",
  "deployment.paused": "Deployment paused",
  "deployment.succeeded": "Deployment succeeded",
  "deployment.failed": "Deployment failed",
  "deployment.cancelled": "Deployment cancelled",
  "deployment.reverted": "Reverted",
};
