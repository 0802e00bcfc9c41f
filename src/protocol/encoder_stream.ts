import { encodeEvent } from "./encode.ts";
import type { SSEEvent } from "./types.ts";

// One chunk may wait unread on the readable side: with the default of none, every chunk handed
// straight to a waiting read() would still signal backpressure and be answered with a new
// promise (Web Streams' TransformStream), a cost paid per event by a reader that keeps up.
const READABLE_STRATEGY = { highWaterMark: 1 };

/**
 * A TransformStream from events to UTF-8 `text/event-stream` bytes. An event the encoder refuses
 * (anything {@link encodeEvent} refuses: `null`, a throwing getter, unserialisable data...)
 * errors the stream with {@link SSEEncodeError}; nothing of it is written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SSEEncoderStream } from "@herald/sse";
 * const body = ReadableStream.from([{ data: "hi" }, { event: "end", data: "" }])
 *   .pipeThrough(new SSEEncoderStream());
 * const response = new Response(body, { headers: { "content-type": "text/event-stream" } });
 * assert.equal(await response.text(), "data: hi\n\nevent: end\ndata: \n\n");
 * ```
 */
export class SSEEncoderStream extends TransformStream<SSEEvent, Uint8Array> {
  constructor() {
    const encoder = new TextEncoder();
    super(
      {
        transform(event, controller) {
          controller.enqueue(encoder.encode(encodeEvent(event)));
        },
      },
      undefined,
      READABLE_STRATEGY,
    );
  }
}
