import "server-only";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import busboy from "busboy";
import { AppError, invalid } from "../errors";

export interface MultipartLimits {
  /** Bytes of one text field's value. */
  fieldBytes: number;
  fields: number;
  files: number;
}

export interface MultipartHandlers {
  /** A text field, in the order the client sent it. Throw to refuse the request. */
  onField: (name: string, value: string) => void;
  /**
   * A file part. The promise must consume `stream` (or throw): parsing waits for it, which is what streams an upload
   * straight to its destination with backpressure and never holds it in memory.
   */
  onFile: (name: string, stream: Readable, info: { fileName: string | undefined; mimeType: string }) => Promise<void>;
}

/**
 * Streams a multipart/form-data request body through busboy, handing fields and files over in the order they
 * arrive. Resolves once every part was handled; rejects with the first refusal. After a refusal the rest of the
 * body is left unread (the caller answers at once; lib/entry/api-route.ts closes the connection). When it settles,
 * every file handler has finished.
 */
export async function readMultipart(request: Request, limits: MultipartLimits, handlers: MultipartHandlers): Promise<void> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\s*;/i.test(contentType) || !request.body) {
    throw invalid("Send the request as multipart/form-data (curl -F …).");
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": contentType },
      defParamCharset: "utf8",
      // Busboy reports fieldsLimit/filesLimit at the first part over the limit; `parts` only bounds the work.
      limits: { fieldSize: limits.fieldBytes, fields: limits.fields, files: limits.files, parts: limits.fields + limits.files + 1, fieldNameSize: 100 },
    });
  } catch {
    throw invalid("The multipart/form-data content type has no boundary.");
  }
  // The DOM and node:stream/web declare the same WHATWG ReadableStream twice; at run time they are one class.
  const source = Readable.fromWeb(request.body as WebReadableStream<Uint8Array>);

  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const pending: Promise<void>[] = [];
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      // Stop feeding the parser; the unread rest of the body is abandoned, not drained.
      source.unpipe(parser);
      source.pause();
      // Ends a file still streaming (its handler then fails and cleans up), and let every file handler finish
      // before answering: the caller must know about each file that was stored, to remove it again.
      parser.destroy();
      void Promise.allSettled(pending).then(() => reject(e));
    };
    const guard = (run: () => void) => {
      try {
        run();
      } catch (e) {
        fail(e);
      }
    };
    parser.on("field", (name, value, info) =>
      guard(() => {
        if (settled) return;
        if (info.valueTruncated) throw new AppError("PAYLOAD_TOO_LARGE", `The field ${name} is longer than ${limits.fieldBytes} bytes.`);
        handlers.onField(name, value);
      }),
    );
    parser.on("file", (name, stream, info) => {
      // A handler that refuses before reading leaves the stream without a consumer; its destruction on failure
      // must not become an uncaught error. Consumers (pipeline) still see errors through their own listeners.
      stream.on("error", () => undefined);
      if (settled) {
        stream.resume();
        return;
      }
      pending.push(handlers.onFile(name, stream, { fileName: info.filename, mimeType: info.mimeType }).catch(fail));
    });
    parser.on("filesLimit", () => fail(invalid(`Send at most ${limits.files} file${limits.files === 1 ? "" : "s"}.`)));
    parser.on("fieldsLimit", () => fail(invalid(`Send at most ${limits.fields} fields.`)));
    parser.on("error", (e: unknown) => fail(invalid(`The multipart body is malformed: ${e instanceof Error ? e.message : String(e)}.`)));
    source.on("error", (e: unknown) => fail(new AppError("INVALID_INPUT", "The upload broke off before it was complete.", { cause: e })));
    parser.on("close", () => {
      void Promise.all(pending).then(() => {
        if (settled) return;
        settled = true;
        resolve();
      });
    });
    source.pipe(parser);
  });
}
