/**
 * Herald: Server-Sent Events for Deno, Bun and the edge, built on web standards only.
 *
 * @example
 * ```ts
 * import { encodeEvent, createParser } from "@herald/sse";
 * createParser({ onEvent: (m) => console.log(m.data) }).feed(encodeEvent({ data: "hi" }));
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

// The fetch-based client (issue 4): src/client/.
export { connect, type SSEConnection } from "./src/client/connect.ts";
export { EventSource, type EventSourceOptions } from "./src/client/event_source.ts";
export { SSEClientErrorEvent } from "./src/client/message_event.ts";
export {
  SSEClientError,
  type SSEClientErrorCode,
  type SSEClientErrorDetails,
} from "./src/client/client_errors.ts";
export type { AttemptInfo, ConnectOptions, FetchLike, ReusableBody } from "./src/client/options.ts";
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./src/client/retry_policy.ts";
export type { ClientTimers } from "./src/client/timers.ts";
export type { ReadyState } from "./src/client/connection_loop.ts";
