import { SSEClientError } from "./client_errors.ts";
import type { RetryPolicy } from "./retry_policy.ts";
import type { ClientTimers } from "./timers.ts";
import type { HeadersInitLike, RequestCredentialsLike } from "../web_types.ts";

/**
 * What a `headers` function learns about the attempt it is called for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AttemptInfo, connect } from "@herald/sse";
 * const attempts: AttemptInfo[] = [];
 * const fetch = () => Promise.resolve(new Response(null, { status: 204 })); // 204: stop
 * const connection = connect("http://127.0.0.1:8000/events", {
 *   fetch,
 *   lastEventId: "41",
 *   headers: (info) => (attempts.push(info), {}),
 * });
 * for await (const _ of connection);
 * assert.deepEqual(attempts, [{ attempt: 1, lastEventId: "41" }]);
 * ```
 */
export interface AttemptInfo {
  /** 1 for the first connection, then one more per reconnection attempt. */
  attempt: number;
  /** The last event ID the attempt will send in `Last-Event-ID` ("" for none). */
  lastEventId: string;
}

/**
 * A request body that can be sent again on every reconnection (streams can't).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, type ReusableBody } from "@herald/sse";
 * const body: ReusableBody = new URLSearchParams({ topic: "news" });
 * const sent: string[] = [];
 * const fetch = async (_url: string, init: RequestInit) => {
 *   sent.push(String(init.body));
 *   return new Response(null, { status: 204 });
 * };
 * for await (const _ of connect("http://127.0.0.1:8000/events", { method: "POST", body, fetch }));
 * assert.deepEqual(sent, ["topic=news"]);
 * ```
 */
export type ReusableBody =
  | string
  | Blob
  | ArrayBuffer
  | ArrayBufferView
  | URLSearchParams
  | FormData;

/**
 * The `fetch` a client calls; any function with the standard signature (a fetch with a proxy, a
 * service binding's, or a test's).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, type FetchLike } from "@herald/sse";
 * const urls: string[] = [];
 * const fetch: FetchLike = (url, init) => {
 *   urls.push(url);
 *   return init.signal?.aborted
 *     ? Promise.reject(init.signal.reason)
 *     : Promise.resolve(new Response(null, { status: 204 }));
 * };
 * for await (const _ of connect("http://127.0.0.1:8000/events", { fetch }));
 * assert.deepEqual(urls, ["http://127.0.0.1:8000/events"]);
 * ```
 */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * Options of {@link connect} and of Herald's {@link EventSource} (its second argument).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, type ConnectOptions } from "@herald/sse";
 * const token = "t1";
 * const options: ConnectOptions = {
 *   method: "POST",
 *   body: JSON.stringify({ topic: "news" }),
 *   headers: () => ({ authorization: `Bearer ${token}` }), // called before every attempt
 *   retry: { initialMs: 1000, maxMs: 30_000 },
 *   idleTimeoutMs: 45_000, // longer than the server's keep-alive interval
 * };
 * const connection = connect("http://127.0.0.1:8000/events", options);
 * assert.equal(connection.url, "http://127.0.0.1:8000/events");
 * connection.close();
 * ```
 */
export interface ConnectOptions {
  /**
   * Request headers: an object, or a function called before every attempt (so a token can be
   * refreshed); it may be async. `Accept: text/event-stream` and `Last-Event-ID` are added.
   */
  headers?:
    | HeadersInitLike
    | ((info: AttemptInfo) => HeadersInitLike | Promise<HeadersInitLike>);
  /** The HTTP method (default `GET`). */
  method?: string;
  /** A request body, sent again on every reconnection. */
  body?: ReusableBody;
  /** The `fetch` to use (default `globalThis.fetch`). */
  fetch?: FetchLike;
  /** Aborting it closes the connection. */
  signal?: AbortSignal;
  /** The last event ID to start from: sent in `Last-Event-ID` on the first request too. */
  lastEventId?: string;
  /** The reconnection delays; see {@link RetryPolicy}. */
  retry?: RetryPolicy;
  /** Failed reconnection attempts in a row before giving up with `max-retries` (default ∞). */
  maxRetries?: number;
  /** No byte at all (comments included) for this long means a dead connection: reconnect. */
  idleTimeoutMs?: number;
  /**
   * Called with every response before Herald looks at it: read headers, or throw (or reject) to
   * refuse it, which closes the connection with `response-rejected`.
   */
  onResponse?: (response: Response) => void | Promise<void>;
  /** The fetch `credentials` mode; left unset unless given (workerd rejects the field). */
  credentials?: RequestCredentialsLike;
  /** The most bytes one line or event may take (default 1 MiB); see the parser. */
  maxEventBytes?: number;
  /** For tests: the clock behind delays and the idle watchdog. */
  timers?: ClientTimers;
  /** For tests: the source of jitter, a function returning [0, 1) (default `Math.random`). */
  random?: () => number;
}

/**
 * Resolves `url` against the current location if there is one (browsers), else requires it to be
 * absolute; an unusable URL throws {@link SSEClientError} `invalid-options`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveUrl } from "./options.ts";
 * assert.equal(resolveUrl(new URL("http://127.0.0.1:8000/a/../events")), "http://127.0.0.1:8000/events");
 * assert.throws(() => resolveUrl("/events"), /must be absolute/); // outside a browser
 * ```
 */
export function resolveUrl(url: string | URL): string {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(String(url), base).href;
  } catch (cause) {
    throw new SSEClientError(
      "invalid-options",
      `${JSON.stringify(String(url))} is not a valid URL` +
        (base ? "." : " (outside a browser it must be absolute, e.g. http://host/events)."),
      { cause },
    );
  }
}

/**
 * Checks the options that can be checked before connecting; throws {@link SSEClientError}
 * `invalid-options` with what to fix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOptions } from "./options.ts";
 * checkOptions({ maxRetries: 3, idleTimeoutMs: 30_000 }); // fine
 * assert.throws(() => checkOptions({ body: "q=1" }), /needs a method that takes one/);
 * ```
 */
export function checkOptions(options: ConnectOptions): void {
  const { maxRetries, idleTimeoutMs, body } = options;
  if (maxRetries !== undefined && !(maxRetries >= 0)) {
    fail(`maxRetries must be a number >= 0 (Infinity for no limit), got ${String(maxRetries)}.`);
  }
  if (idleTimeoutMs !== undefined && !(Number.isFinite(idleTimeoutMs) && idleTimeoutMs >= 0)) {
    fail(`idleTimeoutMs must be a finite number >= 0 (0 turns it off), got ${idleTimeoutMs}.`);
  }
  if (typeof ReadableStream !== "undefined" && body instanceof ReadableStream) {
    fail("body can't be a ReadableStream: it is sent again on every reconnection. Pass a string.");
  }
  const { lastEventId } = options;
  if (
    lastEventId !== undefined && (typeof lastEventId !== "string" || /[\r\n\0]/.test(lastEventId))
  ) {
    fail(
      `lastEventId must be a string without CR, LF or NUL (no server could have sent it), got ` +
        `${JSON.stringify(lastEventId)}.`,
    );
  }
  const method = options.method?.toUpperCase();
  if (body !== undefined && (method === undefined || method === "GET" || method === "HEAD")) {
    fail(`A body needs a method that takes one (e.g. method: "POST"), not ${method ?? "GET"}.`);
  }
}

function fail(message: string): never {
  throw new SSEClientError("invalid-options", message);
}
