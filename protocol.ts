/**
 * The wire format alone (`@herald/sse/protocol`): the spec-exact encoder and parser, as functions
 * and as web `TransformStream`s, with their errors. No server, no client, no timers: for code that
 * only writes or reads `text/event-stream` bytes, such as relaying a model's stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createParser, encodeEvent, type SSEMessage } from "@herald/sse/protocol";
 * const seen: SSEMessage[] = [];
 * createParser({ onEvent: (message) => seen.push(message) })
 *   .feed(encodeEvent({ event: "greeting", id: "1", data: { hello: "world" } }));
 * assert.deepEqual(seen, [
 *   { event: "greeting", data: '{"hello":"world"}', id: "1", lastEventId: "1" },
 * ]);
 * ```
 * @module
 */
export { HeraldError } from "./src/errors.ts";
export type { SSEEvent, SSEMessage } from "./src/protocol/types.ts";
export { encodeComment, encodeEvent } from "./src/protocol/encode.ts";
export { SSEEncodeError, type SSEEncodeErrorCode } from "./src/protocol/encode_errors.ts";
export { SSEEncoderStream } from "./src/protocol/encoder_stream.ts";
export {
  createParser,
  DEFAULT_MAX_EVENT_BYTES,
  type ParserOptions,
  type SSEParser,
} from "./src/protocol/parser.ts";
export { SSEParserStream, type SSEParserStreamOptions } from "./src/protocol/parser_stream.ts";
export { SSEParseError, type SSEParseErrorCode } from "./src/protocol/parse_errors.ts";
