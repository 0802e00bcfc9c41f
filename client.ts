/**
 * The fetch-based client (`@herald/sse/client`): `connect` (an async iterator that reconnects and
 * resumes by `Last-Event-ID`) and a standard `EventSource` with headers, methods and bodies, with
 * their options, retry policy and errors. Runs wherever `fetch` and web streams do.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "@herald/sse/client";
 * // A `fetch` that answers with a finished stream; normally the network's.
 * const fetch = () =>
 *   Promise.resolve(
 *     new Response("id: 1\ndata: one\n\nid: 2\ndata: two\n\n", {
 *       headers: { "content-type": "text/event-stream" },
 *     }),
 *   );
 * const connection = connect("http://127.0.0.1:8000/events", { fetch, maxRetries: 0 });
 * const data: string[] = [];
 * try {
 *   for await (const message of connection) data.push(message.data);
 * } catch {
 *   // the stream ended and maxRetries 0 forbids reconnecting
 * }
 * assert.deepEqual(data, ["one", "two"]);
 * assert.equal(connection.lastEventId, "2");
 * ```
 * @module
 */
export { connect, type SSEConnection } from "./src/client/connect.ts";
export { EventSource, type EventSourceOptions } from "./src/client/event_source.ts";
export type { ReadyState } from "./src/client/connection_loop.ts";
export type { AttemptInfo, ConnectOptions, FetchLike, ReusableBody } from "./src/client/options.ts";
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./src/client/retry_policy.ts";
export type { ClientTimers } from "./src/client/timers.ts";
export {
  SSEClientError,
  type SSEClientErrorCode,
  type SSEClientErrorDetails,
} from "./src/client/client_errors.ts";
export { SSEClientErrorEvent } from "./src/client/message_event.ts";
