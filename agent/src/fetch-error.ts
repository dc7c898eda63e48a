// Why a fetch failed, in words ops can act on. fetch's own message is just "fetch failed" (or "terminated" while a
// body is read); the useful part (ECONNREFUSED, ENOTFOUND, "bad port") is in its cause.

/** "ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:8080)", "bad port", "no answer in time", or the error's message. */
export function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "TimeoutError") return "no answer in time";
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const message = typeof cause?.message === "string" && cause.message !== "" ? cause.message : null;
  if (typeof cause?.code === "string") return message && message !== cause.code ? `${cause.code} (${message})` : cause.code;
  return message ?? error.message;
}
