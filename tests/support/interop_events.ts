// One script of events with every hard case of the wire format, served by the interop tests'
// endpoints (Deno.serve, Bun.serve, workerd) and checked against what real clients receive.
import { SSEEncoderStream, type SSEEvent } from "../../mod.ts";

/** The events every interop endpoint sends, in order. */
export const INTEROP_EVENTS: SSEEvent[] = [
  { retry: 1500, comment: "welcome" },
  { id: "1", data: "plain" },
  { id: "2", data: " leading space" },
  { id: "3", data: "crlf\r\nline\rcr\nlf" },
  { id: "4", event: "custom", data: "named" },
  { id: "5", data: "unicode € 😀 日本 \uFEFF" },
  { id: "6", data: "" },
  { data: "no id keeps 6" },
  { id: "7", data: { json: true, list: [1, "two"] } },
  { comment: "a comment\nin two lines" },
  { id: "", data: "id reset" },
  { id: "8 with spaces", event: "custom", data: "data: looks like a field\n: and a comment" },
  { id: "end", event: "end", data: "done" },
];

/** What a spec-following client dispatches for {@link INTEROP_EVENTS}: type, data, lastEventId. */
export function expectedInterop(): { type: string; data: string; lastEventId: string }[] {
  let lastEventId = "";
  const out: { type: string; data: string; lastEventId: string }[] = [];
  for (const event of INTEROP_EVENTS) {
    if (event.id !== undefined) lastEventId = event.id;
    if (event.data === undefined) continue;
    const data = typeof event.data === "string" ? event.data : JSON.stringify(event.data);
    out.push({
      type: event.event ?? "message",
      data: data.replace(/\r\n|\r|\n/g, "\n"),
      lastEventId,
    });
  }
  return out;
}

/** An SSE response with the interop events, encoded by `SSEEncoderStream`, left open. */
export function interopResponse(): Response {
  let timer: ReturnType<typeof setInterval> | undefined;
  const events = new ReadableStream<SSEEvent>({
    start(controller) {
      for (const event of INTEROP_EVENTS) controller.enqueue(event);
      // Stay open like a live stream; a comment now and then finds out when the client left.
      timer = setInterval(() => controller.enqueue({ comment: "" }), 1000);
    },
    cancel() {
      clearInterval(timer);
    },
  });
  return new Response(events.pipeThrough(new SSEEncoderStream()), {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}
