import "server-only";
import { Readable } from "node:stream";
import type { ErrorBody } from "../entry/http";
import { notFound } from "../errors";
import type { ArtifactStore } from "./artifact-store";
import { answerRange } from "./http-range";

/**
 * The HTTP answer to a download of a stored artifact: streamed from the store, never buffered; one byte range
 * honoured (206 + Content-Range, so a broken-off download resumes), 416 for a range past the end; the ETag is the
 * SHA-256, so If-Range resumes only the same bytes. HEAD gets the same headers without a body.
 */
export async function artifactResponse(
  store: ArtifactStore,
  artifact: { storageKey: string; sha256: string; fileName: string },
  request: { method: string; range: string | null; ifRange: string | null },
): Promise<Response> {
  const stat = await store.statArtifact(artifact.storageKey);
  if (!stat) throw notFound("Artifact");
  const etag = `"${artifact.sha256}"`;
  const headers = new Headers({
    "accept-ranges": "bytes",
    etag,
    "content-type": "application/octet-stream",
    "content-disposition": contentDisposition(artifact.fileName),
    // RFC 9530: the digest of the whole artifact, whatever part of it this response carries.
    "repr-digest": `sha-256=:${Buffer.from(artifact.sha256, "hex").toString("base64")}:`,
    "cache-control": "private, no-store",
  });
  const answer = answerRange(request.range, stat.size, { ifRange: request.ifRange, etag });
  if (answer.kind === "unsatisfiable") {
    headers.set("content-range", `bytes */${stat.size}`);
    headers.set("content-type", "application/json");
    const body: ErrorBody = { error: { code: "RANGE_NOT_SATISFIABLE", message: `The artifact has ${stat.size} bytes; the requested range starts beyond its end.` } };
    return new Response(JSON.stringify(body), { status: 416, headers });
  }
  const range = answer.kind === "partial" ? { start: answer.start, end: answer.end } : undefined;
  const length = range ? range.end - range.start + 1 : stat.size;
  headers.set("content-length", String(length));
  if (range) headers.set("content-range", `bytes ${range.start}-${range.end}/${stat.size}`);
  const status = range ? 206 : 200;
  if (request.method === "HEAD") return new Response(null, { status, headers });
  const { stream } = await store.openArtifact(artifact.storageKey, range);
  // Node's and the DOM's declarations of the WHATWG ReadableStream differ; at run time it is the same class.
  return new Response(Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>, { status, headers });
}

/** `attachment` with an ASCII fallback name and the exact one in RFC 5987 form. */
function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
