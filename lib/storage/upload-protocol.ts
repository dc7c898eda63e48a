// What the browser's tus client and the server agree on. Pure constants (no server code), so the client component
// and the benchmark's client use the very values the server does.

/** The URL path of the tus endpoint (app/api/uploads/[[...path]]/route.ts). */
export const UPLOADS_PATH = "/api/uploads";

/**
 * Bytes per PATCH request: no limit, the whole rest of the file in one request (tus-js-client's own default).
 * Resuming does not need chunks: the server keeps every byte that reached its disk when a request breaks off, and
 * the client continues from the offset it reports. Chunks would only help behind a proxy that limits request
 * bodies, and the pipeline API already sends whole artifacts in one request. Each extra request costs a session
 * check, an ownership check and a lock: 32 MiB chunks made a 1 GiB upload about a third slower on loopback
 * (bench/upload.ts, docs/benchmarks.md).
 */
export const UPLOAD_CHUNK_BYTES = Number.POSITIVE_INFINITY;

/** @tus/server names uploads with 16 random bytes in hex. */
export const UPLOAD_ID = /^[0-9a-f]{32}$/;

/** The upload id at the end of an upload URL (`…/api/uploads/<id>`, absolute or not), or null. */
export function uploadIdFromUrl(url: string): string | null {
  const pathname = new URL(url, "http://relative.invalid").pathname;
  const id = pathname.slice(pathname.lastIndexOf("/") + 1);
  return pathname.startsWith(`${UPLOADS_PATH}/`) && UPLOAD_ID.test(id) ? id : null;
}
