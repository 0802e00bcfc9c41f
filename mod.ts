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

// The topic hub with exact resume, and its in-memory broker (issue 5): src/hub/.
export { createHub, type Hub, type HubOptions, type SubscribeOptions } from "./src/hub/hub.ts";
export { type HubResponseOptions, lastEventIdOf } from "./src/hub/hub_response.ts";
export { MemoryBroker, type MemoryBrokerOptions } from "./src/hub/memory_broker.ts";
export type {
  Broker,
  BrokerEntry,
  BrokerRead,
  HubEvent,
  ListenOptions,
  TopicRead,
} from "./src/hub/broker.ts";
export {
  BrokerError,
  type BrokerErrorCode,
  HubCursorError,
  type HubCursorErrorCode,
  HubEventError,
  type HubEventErrorCode,
  HubTopicError,
  type HubTopicErrorCode,
} from "./src/hub/errors.ts";
export { HISTORY_LOST_EVENT, type HistoryLost } from "./src/hub/history_lost.ts";
export {
  comparePositions,
  nextPosition,
  parsePosition,
  ZERO_POSITION,
} from "./src/hub/position.ts";
export {
  type Cursor,
  CURSOR_VERSION,
  decodeCursor,
  encodeCursor,
  encodeCursorPosition,
  topicsTag,
} from "./src/hub/cursor.ts";
export { createCursorSigner, type CursorSigner } from "./src/hub/cursor_signing.ts";
export { newEpoch } from "./src/hub/epoch.ts";
export {
  DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION,
  MAX_TOPIC_LENGTH,
  normalizeTopics,
  validateTopic,
} from "./src/hub/topics.ts";
export { validateHubEvents } from "./src/hub/publish_validation.ts";

// Responses (src/server): sseResponse and what it takes and reports.
export { sseResponse } from "./src/server/response.ts";
export { SSECloseError, type SSECloseReason } from "./src/server/close_reason.ts";
export { SSEResponseError, type SSEResponseErrorCode } from "./src/server/response_errors.ts";
export {
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_QUEUED_EVENTS,
  DEFAULT_SLOW_CLIENT_TIMEOUT_MS,
  type SSELogger,
  type SSEResponseOptions,
} from "./src/server/options.ts";
export type { SSEEventMap, SSEEventOf, SSESource, SSEWriter } from "./src/server/writer.ts";
export type { SSEQueuePolicy } from "./src/server/queue.ts";
export type { SSEClock } from "./src/server/clock.ts";
export { type SSEStats, sseStats } from "./src/server/stats.ts";
export { headersFor as sseHeaders } from "./src/server/headers.ts";
export { BUN_KEEP_ALIVE_MS, type BunServerLike, bunSSE } from "./src/server/runtime_bun.ts";
