import "server-only";
import { z } from "zod";
import { AppError, isAppError } from "../errors";
import { log } from "../log";

// HTTP basics every entry point shares (session routes, the pipeline API, the agent API): bounded JSON bodies,
// the JSON error body and its statuses, streamed lines, id segments. Nothing here knows who calls.

/** The largest JSON body a route handler reads; larger ones are refused before they are buffered. */
export const MAX_JSON_BYTES = 256 * 1024;

/**
 * Reads a JSON request body of at most `maxBytes`, counting as it reads: a client that omits or understates
 * Content-Length is cut off at the limit instead of filling memory.
 */
export async function readJson(request: Request, maxBytes = MAX_JSON_BYTES): Promise<unknown> {
  const tooLarge = () => new AppError("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${maxBytes} bytes.`);
  if (Number(request.headers.get("content-length") ?? "0") > maxBytes) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        // Stop reading, but do not cancel: cancelling would reset the connection before the 413 reaches the client.
        reader.releaseLock();
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new AppError("INVALID_INPUT", "The request body is not valid JSON.");
  }
}

/** The JSON body of every error a route handler returns. */
export interface ErrorBody {
  error: { code: string; message: string; fieldErrors?: Record<string, string[]>; requestId?: string };
}

export function errorResponse(e: unknown, requestId: string): Response {
  if (isAppError(e)) {
    return Response.json(
      { error: { code: e.code, message: e.message, ...(e.fieldErrors ? { fieldErrors: e.fieldErrors } : {}) } } satisfies ErrorBody,
      { status: e.status },
    );
  }
  log.error({ err: e, requestId }, "route failed");
  return Response.json({ error: { code: "INTERNAL", message: "Something went wrong on our side.", requestId } } satisfies ErrorBody, {
    status: 500,
  });
}

/**
 * A byte stream from an async generator of chunks, with backpressure: the generator advances only as the client
 * reads, and stops (its finally blocks run) when the client goes away.
 */
export function chunkStream(chunks: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}

/** A path segment that must be a UUID: anything else cannot name a row, so it is answered as not found. */
export function uuidParam(value: string | undefined, what: string): string {
  if (!value || !z.uuid().safeParse(value).success) throw new AppError("NOT_FOUND", `${what} not found.`);
  return value;
}
