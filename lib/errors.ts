// Typed application errors and the one table that maps them to HTTP statuses.
// Expected errors carry a message meant for the person who caused them; anything else is "unexpected": it is
// logged with a request id and the caller sees only a generic message with that id.

export const ERROR_STATUS = {
  INVALID_INPUT: 400,
  UNAUTHENTICATED: 401, // who are you? (no or expired session, bad credential)
  FORBIDDEN: 403, // known, but not allowed
  NOT_FOUND: 404, // absent, or outside the actor's tenant: never reveal which
  CONFLICT: 409, // duplicate, or the object changed state under you
  LEASE_LOST: 409, // an agent reported on a job lease the server no longer honours (fencing)
  PRECONDITION_FAILED: 412, // a lifecycle gate is not met
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * What a refused action was about. A FORBIDDEN carries it from the domain check that refused, so the one denial
 * writer (lib/audit/record-denial.ts) files the refusal under that application, environment and release, where
 * their auditor looks.
 */
export interface DenialScope {
  applicationId?: string | null;
  environmentId?: string | null;
  releaseId?: string | null;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Per-field messages for forms, keyed by input name. */
  readonly fieldErrors: Record<string, string[]> | undefined;
  /** For a FORBIDDEN: the objects it was about. */
  readonly scope: DenialScope | undefined;

  constructor(code: ErrorCode, message: string, options?: { fieldErrors?: Record<string, string[]>; cause?: unknown; scope?: DenialScope }) {
    super(message, { cause: options?.cause });
    this.name = "AppError";
    this.code = code;
    this.fieldErrors = options?.fieldErrors;
    this.scope = options?.scope;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

export const notFound = (what: string) => new AppError("NOT_FOUND", `${what} not found.`);
export const forbidden = (message = "You are not allowed to do that.", scope?: DenialScope) => new AppError("FORBIDDEN", message, scope ? { scope } : undefined);
export const conflict = (message: string) => new AppError("CONFLICT", message);
export const invalid = (message: string, fieldErrors?: Record<string, string[]>) =>
  new AppError("INVALID_INPUT", message, fieldErrors ? { fieldErrors } : undefined);

/** Postgres unique violations surface from Prisma as P2002; callers turn them into a CONFLICT with a real message. */
export function isUniqueViolation(e: unknown): boolean {
  return typeof e === "object" && e !== null && "code" in e && (e as { code: unknown }).code === "P2002";
}
