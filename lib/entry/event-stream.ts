import "server-only";

/** One message of a Server-Sent Events stream: a named event, or a keep-alive comment. */
export type ServerSentEvent = "ping" | { event: string; data?: string };

const encoder = new TextEncoder();

function format(message: ServerSentEvent): string {
  if (message === "ping") return ": ping\n\n";
  const data = (message.data ?? "").split("\n").map((line) => `data: ${line}`).join("\n");
  return `event: ${message.event}\n${data}\n\n`;
}

/**
 * A text/event-stream response from an async generator of messages, one write per message (never batched: a
 * live view must hear each one when it happens). When the client goes away the generator is stopped through
 * `stop`, which the generator's own wait must observe.
 */
export function eventStreamResponse(messages: AsyncGenerator<ServerSentEvent>, stop: AbortController): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      // How long the browser waits before reconnecting after the stream drops.
      controller.enqueue(encoder.encode("retry: 3000\n\n"));
    },
    async pull(controller) {
      const next = await messages.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(format(next.value)));
    },
    async cancel() {
      stop.abort();
      await messages.return(undefined);
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      // no-transform: compression would hold events back until a buffer fills.
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    },
  });
}
