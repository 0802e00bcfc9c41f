import { HeraldError } from "@herald/sse";

/**
 * Why the reference server refused a request or could not start. Every code maps to one HTTP
 * status and is sent in the JSON body as `{ "error": { "code", "message" } }`.
 * - `config-invalid` (500): an environment variable has a value the server can't use.
 * - `token-missing` (401): subscribing needs a token (Authorization, cookie or `?token=`).
 * - `token-invalid` (401): the token is malformed, forged or signed with another secret.
 * - `token-expired` (401): the token's `exp` has passed: mint a new one.
 * - `token-not-yet-valid` (401): the token's `nbf` is in the future.
 * - `publisher-key-invalid` (401): publishing needs `Authorization: Bearer <publisher key>`.
 * - `metrics-key-invalid` (401): `/metrics` needs `Authorization: Bearer <HERALD_METRICS_KEY>`.
 * - `topic-forbidden` (403): the token's `topics` claim does not allow a requested topic.
 * - `topic-invalid` (400): a topic name the hub refuses (length, characters).
 * - `topics-missing` (400): `GET /v1/events` without any `topic` parameter.
 * - `too-many-topics` (400): more topics in one subscription than allowed.
 * - `cursor-invalid` (400): the `Last-Event-ID` / `lastEventId` is malformed or forged.
 * - `body-invalid` (400): the publish body is not `{ event?, data }` or an array of them.
 * - `event-too-large` (413): one event (name and data), or the body, is larger than allowed.
 * - `too-many-connections-per-token` (429): this token already holds its connections.
 * - `too-many-connections-per-address` (429): this address already holds its connections.
 * - `rate-limited` (429): this publisher key is publishing faster than allowed.
 * - `too-many-subscribes` (429): this token or address opens subscriptions faster than allowed.
 * - `too-many-auth-failures` (429): this address failed authentication too often; wait.
 * - `not-found` (404): no such route (or the dev routes, when dev mode is off).
 * - `method-not-allowed` (405): the route exists but not with this method (`Allow` lists them).
 * - `broker-error` (503): the broker failed; try again.
 * - `internal` (500): anything else; details are logged, never sent.
 */
export type ServerErrorCode =
  | "config-invalid"
  | "token-missing"
  | "token-invalid"
  | "token-expired"
  | "token-not-yet-valid"
  | "publisher-key-invalid"
  | "metrics-key-invalid"
  | "topic-forbidden"
  | "topic-invalid"
  | "topics-missing"
  | "too-many-topics"
  | "cursor-invalid"
  | "body-invalid"
  | "event-too-large"
  | "too-many-connections-per-token"
  | "too-many-connections-per-address"
  | "rate-limited"
  | "too-many-subscribes"
  | "too-many-auth-failures"
  | "not-found"
  | "method-not-allowed"
  | "broker-error"
  | "internal";

const STATUS_BY_CODE: Record<ServerErrorCode, number> = {
  "config-invalid": 500,
  "token-missing": 401,
  "token-invalid": 401,
  "token-expired": 401,
  "token-not-yet-valid": 401,
  "publisher-key-invalid": 401,
  "metrics-key-invalid": 401,
  "topic-forbidden": 403,
  "topic-invalid": 400,
  "topics-missing": 400,
  "too-many-topics": 400,
  "cursor-invalid": 400,
  "body-invalid": 400,
  "event-too-large": 413,
  "too-many-connections-per-token": 429,
  "too-many-connections-per-address": 429,
  "rate-limited": 429,
  "too-many-subscribes": 429,
  "too-many-auth-failures": 429,
  "not-found": 404,
  "method-not-allowed": 405,
  "broker-error": 503,
  "internal": 500,
};

/**
 * A refusal of the reference server: a `code`, the HTTP status it maps to, and a message that
 * says what to do. `toResponse()` turns it into the JSON answer clients see.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerError } from "./errors.ts";
 * const error = new ServerError("topic-forbidden", 'The token does not allow topic "x".');
 * assert.equal(error.status, 403);
 * const response = error.toResponse();
 * assert.equal(response.status, 403);
 * assert.deepEqual(await response.json(), {
 *   error: { code: "topic-forbidden", message: 'The token does not allow topic "x".' },
 * });
 * ```
 */
export class ServerError extends HeraldError {
  declare readonly code: ServerErrorCode;
  /** The HTTP status this refusal is answered with. */
  readonly status: number;
  /** Extra response headers, e.g. `Retry-After` for 429s. */
  readonly headers: Record<string, string>;

  constructor(
    code: ServerErrorCode,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(code, message, options);
    this.status = STATUS_BY_CODE[code];
    this.headers = options.headers ?? {};
  }

  /** The JSON response: `{ "error": { "code", "message" } }` with this error's status. */
  toResponse(): Response {
    return Response.json({ error: { code: this.code, message: this.message } }, {
      status: this.status,
      headers: { ...this.headers, "cache-control": "no-store" },
    });
  }
}
