import { HeraldError } from "../errors.ts";

/**
 * Why a client connection failed, or why it is reconnecting. Decide by code:
 * - `http-status`: the server answered a status that is not a success. 5xx, 408 and 429 are
 *   retried (honouring `Retry-After`); any other 4xx closes the connection for good.
 *   `status` and `bodyStart` say what the server said.
 * - `bad-content-type`: a success status whose `Content-Type` is not `text/event-stream`: the URL
 *   is not an event stream (often a login page or a JSON error). Not retried.
 * - `no-content`: the server answered 204 No Content, its way of saying "stop". Not retried;
 *   `connect()` ends its iteration quietly, `EventSource` fires `error` as browsers do.
 * - `network`: fetch failed or the body broke mid-stream. Retried.
 * - `stream-ended`: the server ended the stream normally. Reconnected, as the spec says.
 * - `idle-timeout`: no byte at all (comments included) for `idleTimeoutMs`: a dead connection.
 *   Retried.
 * - `headers-failed`: the `headers` function threw or rejected (e.g. a token refresh failed).
 *   Retried.
 * - `response-rejected`: the `onResponse` hook threw or rejected. Not retried.
 * - `parse-error`: the stream sent a line or an event larger than `maxEventBytes`. Not retried:
 *   resuming would fetch the same event again.
 * - `max-retries`: `maxRetries` reconnection attempts in a row failed; `cause` is the last error.
 * - `invalid-options`: the URL or an option is unusable; thrown by `connect()` and the
 *   `EventSource` constructor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, SSEClientError, type SSEClientErrorCode } from "@herald/sse";
 * let code: SSEClientErrorCode | undefined;
 * try {
 *   connect("/relative/outside/a/browser");
 * } catch (error) {
 *   if (error instanceof SSEClientError) code = error.code;
 * }
 * assert.equal(code, "invalid-options");
 * ```
 */
export type SSEClientErrorCode =
  | "http-status"
  | "bad-content-type"
  | "no-content"
  | "network"
  | "stream-ended"
  | "idle-timeout"
  | "headers-failed"
  | "response-rejected"
  | "parse-error"
  | "max-retries"
  | "invalid-options";

/**
 * Details an {@link SSEClientError} may carry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SSEClientError, type SSEClientErrorDetails } from "@herald/sse";
 * const details: SSEClientErrorDetails = { status: 503, bodyStart: "busy" };
 * const error = new SSEClientError("http-status", "The server answered 503.", details);
 * assert.equal(error.status, 503);
 * assert.equal(error.bodyStart, "busy");
 * ```
 */
export interface SSEClientErrorDetails {
  /** The HTTP status of the response this error is about. */
  status?: number;
  /** The first bytes of the response body, decoded as UTF-8 (at most 512 bytes' worth). */
  bodyStart?: string;
  /** The error that caused this one (a fetch `TypeError`, an `SSEParseError`, ...). */
  cause?: unknown;
}

/**
 * A failure of Herald's client (`connect`, `EventSource`), with a `code` to decide by, the HTTP
 * `status` and the start of the body where there was a response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, SSEClientError } from "@herald/sse";
 * // A server that answers 404 (the `fetch` option stands in for the network here).
 * const fetch = () => Promise.resolve(new Response("no such stream", { status: 404 }));
 * await assert.rejects(
 *   async () => {
 *     for await (const _ of connect("http://127.0.0.1:8000/events", { fetch }));
 *   },
 *   (error) => {
 *     assert.ok(error instanceof SSEClientError);
 *     assert.equal(error.code, "http-status"); // a 4xx is not retried
 *     assert.equal(error.status, 404);
 *     assert.equal(error.bodyStart, "no such stream");
 *     return true;
 *   },
 * );
 * ```
 */
export class SSEClientError extends HeraldError {
  declare readonly code: SSEClientErrorCode;
  /** The HTTP status, when a response was received. */
  readonly status: number | undefined;
  /** The start of the response body, when one was read (error statuses, wrong content type). */
  readonly bodyStart: string | undefined;

  constructor(code: SSEClientErrorCode, message: string, details: SSEClientErrorDetails = {}) {
    super(code, message, "cause" in details ? { cause: details.cause } : undefined);
    this.status = details.status;
    this.bodyStart = details.bodyStart;
  }
}
