import { createParser, type ParserOptions, type SSEParser } from "./parser.ts";
import type { SSEMessage } from "./types.ts";

/**
 * Options of {@link SSEParserStream}: those of {@link createParser} but `onEvent`, whose place the
 * readable side takes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SSEParserStream, type SSEParserStreamOptions } from "@herald/sse";
 * const retries: number[] = [];
 * const options: SSEParserStreamOptions = { onRetry: (ms) => retries.push(ms) };
 * await new Response("retry: 500\n\n").body!.pipeThrough(new SSEParserStream(options))
 *   .pipeTo(new WritableStream());
 * assert.deepEqual(retries, [500]);
 * ```
 */
export type SSEParserStreamOptions = Omit<ParserOptions, "onEvent">;

// One event may wait unread on the readable side: with the default of none, every event handed
// straight to a waiting read() would still signal backpressure and be answered with a new
// promise (Web Streams' TransformStream), a cost paid per event by a reader that keeps up.
const READABLE_STRATEGY = { highWaterMark: 1 };

/**
 * A TransformStream from `text/event-stream` text or bytes to dispatched events. Bytes are decoded
 * as UTF-8 in the same hop (no separate `TextDecoderStream`), with exactly one leading BOM
 * stripped. A line or event past `maxEventBytes` errors the stream with {@link SSEParseError}:
 * nothing after the start of the offending line is parsed, and no event follows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type SSEMessage, SSEParserStream } from "@herald/sse";
 * const body = new Response("id: 1\ndata: hello\n\n").body!;
 * const seen: SSEMessage[] = [];
 * for await (const message of body.pipeThrough(new SSEParserStream())) seen.push(message);
 * assert.deepEqual(seen, [{ event: "message", data: "hello", id: "1", lastEventId: "1" }]);
 * ```
 */
export class SSEParserStream extends TransformStream<string | Uint8Array, SSEMessage> {
  #parser: SSEParser | undefined;

  constructor(options: SSEParserStreamOptions = {}) {
    let parser: SSEParser | undefined;
    super(
      {
        start(controller) {
          parser = createParser({ ...options, onEvent: (message) => controller.enqueue(message) });
        },
        transform(chunk) {
          parser!.feed(chunk);
        },
        flush() {
          // The end of the stream: an event without its blank line is discarded, as the spec says.
          parser!.reset();
        },
      },
      undefined,
      READABLE_STRATEGY,
    );
    this.#parser = parser;
  }

  /** The last event ID as of the last dispatched block. */
  get lastEventId(): string {
    return this.#parser?.lastEventId ?? "";
  }
}
