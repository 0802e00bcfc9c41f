/**
 * Herald: Server-Sent Events for Deno, Bun, Cloudflare Workers and Vercel Edge, on web standards
 * only. The everyday path: the encoder and parser (`encodeEvent`, `createParser` and their
 * streams), event-stream responses (`sseResponse`), a resuming client (`connect`, `EventSource`),
 * and a topic hub with exact resume and resumable streams for model output (`createHub`,
 * `MemoryBroker`, `relayModelStream`), with their options and errors.
 * Subpaths by job: `@herald/sse/protocol`, `/server`, `/client`, `/hub`, `/broker`, and adapters
 * `/bun`, `/hono`, `/upstash`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createParser, encodeEvent, type SSEMessage } from "@herald/sse";
 * const seen: SSEMessage[] = [];
 * createParser({ onEvent: (message) => seen.push(message) }).feed(encodeEvent({ data: "hi" }));
 * assert.equal(seen[0].data, "hi");
 * ```
 * @module
 */
export { HeraldError } from "./src/errors.ts";

// The wire format.
export type { SSEEvent, SSEMessage } from "./src/protocol/types.ts";
export { encodeComment, encodeEvent } from "./src/protocol/encode.ts";
export { SSEEncodeError, type SSEEncodeErrorCode } from "./src/protocol/encode_errors.ts";
export { SSEEncoderStream } from "./src/protocol/encoder_stream.ts";
export { createParser, type ParserOptions, type SSEParser } from "./src/protocol/parser.ts";
export { SSEParserStream, type SSEParserStreamOptions } from "./src/protocol/parser_stream.ts";
export { SSEParseError, type SSEParseErrorCode } from "./src/protocol/parse_errors.ts";

// Responses.
export { sseResponse } from "./src/server/response.ts";
export type { SSELogger, SSEResponseOptions } from "./src/server/options.ts";
export { SSEResponseError, type SSEResponseErrorCode } from "./src/server/response_errors.ts";
export { SSECloseError, type SSECloseReason } from "./src/server/close_reason.ts";
export type { SSEEventMap, SSEEventOf, SSESource, SSEWriter } from "./src/server/writer.ts";
export type { SSEQueuePolicy } from "./src/server/queue.ts";

// The client.
export { connect, type SSEConnection } from "./src/client/connect.ts";
export { EventSource, type EventSourceOptions } from "./src/client/event_source.ts";
export type { ReadyState } from "./src/client/connection_loop.ts";
export type { AttemptInfo, ConnectOptions, FetchLike, ReusableBody } from "./src/client/options.ts";
export type { RetryPolicy } from "./src/client/retry_policy.ts";
export {
  SSEClientError,
  type SSEClientErrorCode,
  type SSEClientErrorDetails,
} from "./src/client/client_errors.ts";
export { SSEClientErrorEvent } from "./src/client/message_event.ts";

// The topic hub and its in-memory broker.
export { createHub, type Hub, type HubOptions, type SubscribeOptions } from "./src/hub/hub.ts";
export type { DeliveryInfo, HubResponseOptions } from "./src/hub/hub_options.ts";
export type { StartedStream, StreamOptions, StreamWriter } from "./src/hub/stream_options.ts";
export { STREAM_END_EVENT, type StreamEnd } from "./src/hub/stream_end.ts";
export { MemoryBroker, type MemoryBrokerOptions } from "./src/hub/memory_broker.ts";
// A variable that holds either broker (`MemoryBroker`, `UpstashBroker`) is a `Broker`.
export type { Broker, HubEvent } from "./src/hub/broker.ts";
export {
  BrokerError,
  type BrokerErrorCode,
  HubCursorError,
  type HubCursorErrorCode,
  HubEventError,
  type HubEventErrorCode,
  HubStreamError,
  type HubStreamErrorCode,
  HubTopicError,
  type HubTopicErrorCode,
} from "./src/hub/errors.ts";
export { HISTORY_LOST_EVENT, type HistoryLost } from "./src/hub/history_lost.ts";
export {
  ModelStreamError,
  type ModelStreamErrorCode,
  type ModelStreamFormat,
  relayModelStream,
  type RelayModelStreamOptions,
} from "./src/hub/relay_model_stream.ts";
