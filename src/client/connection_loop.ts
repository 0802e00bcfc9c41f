import { createParser, type SSEParser } from "../protocol/parser.ts";
import { SSEParseError } from "../protocol/parse_errors.ts";
import type { SSEMessage } from "../protocol/types.ts";
import { SSEClientError } from "./client_errors.ts";
import { IdleWatchdog } from "./idle_watchdog.ts";
import { checkOptions, type ConnectOptions, type FetchLike, resolveUrl } from "./options.ts";
import { readBodyStart } from "./read_body_start.ts";
import { parseRetryAfterMs, resolveRetryPolicy, retryDelayMs } from "./retry_policy.ts";
import { GLOBAL_TIMERS } from "./timers.ts";

/**
 * The states of a connection, numbered as `EventSource.readyState`: CONNECTING (0), OPEN (1),
 * CLOSED (2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventSource, type ReadyState } from "@herald/sse";
 * const closed: ReadyState = EventSource.CLOSED;
 * assert.equal(closed, 2);
 * ```
 */
export type ReadyState = 0 | 1 | 2;
export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSED = 2;

/** Where a {@link ConnectionLoop} reports what happens; implemented by `connect` and `EventSource`. */
export interface ConnectionSink {
  /** The connection opened (readyState is OPEN). */
  open(response: Response): void;
  /** One dispatched event; `origin` is the origin of the response's final URL. */
  message(message: SSEMessage, origin: string): void;
  /** A failure: `willRetry` says whether a reconnection follows (readyState CONNECTING). */
  error(error: SSEClientError, willRetry: boolean): void;
  /** The loop ended for good (readyState CLOSED); called once, after any final `error`. */
  closed(): void;
  /** A promise to wait for before reading more bytes (backpressure), or undefined to go on. */
  demand?(): Promise<void> | undefined;
}

/** How one attempt ended. */
type Outcome =
  | { kind: "closed" }
  | { kind: "fatal"; error: SSEClientError }
  | { kind: "retry"; error: SSEClientError; opened: boolean; retryAfterMs?: number };

function isRetriedStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** The essence of a Content-Type (`text/event-stream; charset=utf-8` → `text/event-stream`). */
function mimeEssence(contentType: string | null): string {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

/**
 * A header value is a byte string: send the id's UTF-8 bytes one per char, as browsers send it.
 * (Putting the string itself in would throw for any character above U+00FF.)
 */
function toByteString(text: string): string {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text;
  let out = "";
  for (const byte of new TextEncoder().encode(text)) out += String.fromCharCode(byte);
  return out;
}

/**
 * The reconnecting fetch loop behind {@link connect} and Herald's {@link EventSource}: one
 * request per attempt, the spec's parser over the body, and the status, retry, idle and close
 * rules of the client. It starts on the next microtask, so hooks set right after it is created
 * see everything.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionLoop } from "./connection_loop.ts";
 * const body = "id: 7\ndata: hi\n\n";
 * const fetch = () =>
 *   Promise.resolve(new Response(body, { headers: { "content-type": "text/event-stream" } }));
 * const seen: string[] = [];
 * const closed = Promise.withResolvers<void>();
 * const loop = new ConnectionLoop("http://127.0.0.1:8000/events", { fetch, maxRetries: 0 }, {
 *   open: () => seen.push("open"),
 *   message: (m) => seen.push(`message ${m.data}`),
 *   error: (e, willRetry) => seen.push(`error ${e.code} ${willRetry}`),
 *   closed: () => closed.resolve(),
 * });
 * await closed.promise;
 * assert.deepEqual(seen, ["open", "message hi", "error max-retries false"]);
 * assert.equal(loop.lastEventId, "7");
 * ```
 */
export class ConnectionLoop {
  /** The URL, resolved (absolute). */
  readonly url: string;
  readonly #options: ConnectOptions;
  readonly #sink: ConnectionSink;
  readonly #fetch: FetchLike;
  readonly #timers;
  readonly #random: () => number;
  readonly #policy;
  readonly #parser: SSEParser;
  readonly #watchdog: IdleWatchdog;
  #readyState: ReadyState = CONNECTING;
  #baseMs: number;
  #origin = "";
  #attempt: AbortController | undefined;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #idleFired = false;
  #wake: (() => void) | undefined;
  #removeSignalListener: (() => void) | undefined;

  constructor(url: string | URL, options: ConnectOptions, sink: ConnectionSink) {
    this.url = resolveUrl(url);
    checkOptions(options);
    this.#options = options;
    this.#sink = sink;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#timers = { ...GLOBAL_TIMERS, ...options.timers };
    this.#random = options.random ?? Math.random;
    this.#policy = resolveRetryPolicy(options.retry);
    this.#baseMs = this.#policy.initialMs;
    this.#parser = createParser({
      lastEventId: options.lastEventId,
      maxEventBytes: options.maxEventBytes,
      onRetry: (ms) => (this.#baseMs = ms),
      // A listener may close the connection in the middle of a chunk: nothing after that.
      onEvent: (message) => {
        if (this.#readyState !== CLOSED) sink.message(message, this.#origin);
      },
    });
    this.#watchdog = new IdleWatchdog(options.idleTimeoutMs, this.#timers, () => {
      this.#idleFired = true;
      this.#abortAttempt();
    });
    const signal = options.signal;
    if (signal) {
      const onAbort = () => this.close();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#removeSignalListener = () => signal.removeEventListener("abort", onAbort);
    }
    queueMicrotask(() => {
      if (signal?.aborted) return this.close();
      this.#run().catch((cause) => {
        // A bug or a throwing sink: report it rather than leave the connection hanging.
        this.#fail(
          cause instanceof SSEClientError
            ? cause
            : new SSEClientError("network", `The client loop failed: ${cause}`, { cause }),
        );
      });
    });
  }

  /** CONNECTING (0), OPEN (1) or CLOSED (2). */
  get readyState(): ReadyState {
    return this.#readyState;
  }

  /** The last event ID: what the next reconnection sends in `Last-Event-ID`. */
  get lastEventId(): string {
    return this.#parser.lastEventId;
  }

  /** Closes for good: aborts the request in flight; nothing is dispatched afterwards. */
  close(): void {
    if (this.#isClosed()) return;
    this.#readyState = CLOSED;
    this.#shutdown();
    this.#sink.closed();
  }

  // A method, not a field read: TypeScript would narrow the field across awaits that change it.
  #isClosed(): boolean {
    return this.#readyState === CLOSED;
  }

  #fail(error: SSEClientError): void {
    if (this.#isClosed()) return;
    this.#readyState = CLOSED;
    this.#shutdown();
    this.#sink.error(error, false);
    this.#sink.closed();
  }

  #shutdown(): void {
    this.#removeSignalListener?.();
    this.#watchdog.stop();
    this.#abortAttempt();
    this.#wake?.();
  }

  #abortAttempt(): void {
    this.#attempt?.abort();
    // Cancelling the reader ends a pending read at once, on runtimes where abort alone is slow.
    this.#reader?.cancel().catch(() => {/* the stream already failed: nothing to release */});
  }

  async #run(): Promise<void> {
    let failures = 0;
    let attempt = 0;
    while (this.#readyState !== CLOSED) {
      attempt++;
      const outcome = await this.#connectOnce(attempt);
      this.#watchdog.stop();
      this.#reader = undefined;
      if (this.#isClosed() || outcome.kind === "closed") return;
      if (outcome.kind === "fatal") return this.#fail(outcome.error);
      failures = outcome.opened ? 1 : failures + 1;
      const maxRetries = this.#options.maxRetries ?? Infinity;
      if (failures > maxRetries) {
        return this.#fail(
          new SSEClientError(
            "max-retries",
            `Gave up after ${maxRetries} reconnection attempt(s) in a row; the last failure: ` +
              `${outcome.error.message} Raise maxRetries, or fix the server.`,
            { cause: outcome.error, status: outcome.error.status },
          ),
        );
      }
      this.#readyState = CONNECTING;
      this.#sink.error(outcome.error, true);
      if (this.#isClosed()) return; // closed by the error handler
      const delayMs = retryDelayMs(this.#policy, {
        failures,
        baseMs: this.#baseMs,
        retryAfterMs: outcome.retryAfterMs,
        random: this.#random(),
      });
      await this.#sleep(delayMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const id = this.#timers.setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        this.#wake = undefined;
        this.#timers.clearTimeout(id);
        resolve();
      };
    });
  }

  async #headers(attempt: number): Promise<Headers> {
    const option = this.#options.headers;
    const init = typeof option === "function"
      ? await option({ attempt, lastEventId: this.lastEventId })
      : option;
    const headers = new Headers(init);
    if (!headers.has("accept")) headers.set("accept", "text/event-stream");
    const lastEventId = this.lastEventId;
    if (lastEventId !== "") headers.set("last-event-id", toByteString(lastEventId));
    return headers;
  }

  async #connectOnce(attempt: number): Promise<Outcome> {
    let headers: Headers;
    try {
      headers = await this.#headers(attempt);
    } catch (cause) {
      return {
        kind: "retry",
        opened: false,
        error: new SSEClientError(
          "headers-failed",
          `The headers function failed: ${(cause as Error)?.message ?? cause}.`,
          { cause },
        ),
      };
    }
    if (this.#isClosed()) return { kind: "closed" };

    const controller = new AbortController();
    this.#attempt = controller;
    this.#idleFired = false;
    this.#watchdog.arm();
    let response: Response;
    try {
      const { method, body, credentials } = this.#options;
      response = await this.#fetch(this.url, {
        method: method ?? "GET",
        headers,
        body: body as BodyInit | undefined,
        signal: controller.signal,
        redirect: "follow",
        ...(credentials ? { credentials } : {}),
      });
    } catch (cause) {
      return this.#broken(cause, false);
    }
    if (this.#isClosed()) {
      response.body?.cancel().catch(() => {/* closed while the headers arrived: drop it */});
      return { kind: "closed" };
    }
    this.#watchdog.arm();

    if (this.#options.onResponse) {
      try {
        await this.#options.onResponse(response);
      } catch (cause) {
        response.body?.cancel().catch(() => {/* refused: the body is not wanted */});
        return {
          kind: "fatal",
          error: new SSEClientError(
            "response-rejected",
            `onResponse refused the response (status ${response.status}): ` +
              `${(cause as Error)?.message ?? cause}`,
            { cause, status: response.status },
          ),
        };
      }
      if (this.#isClosed()) return { kind: "closed" };
    }

    const refused = await this.#checkResponse(response);
    if (refused) return refused;

    this.#origin = new URL(response.url || this.url).origin;
    this.#readyState = OPEN;
    this.#sink.open(response);
    if (this.#isClosed()) return { kind: "closed" };
    return await this.#readBody(response);
  }

  /** The outcome for a response that must not be read as a stream, or undefined to open it. */
  async #checkResponse(response: Response): Promise<Outcome | undefined> {
    const { status } = response;
    if (status === 204) {
      response.body?.cancel().catch(() => {/* 204 has no body to speak of */});
      return {
        kind: "fatal",
        error: new SSEClientError(
          "no-content",
          "The server answered 204 No Content: it asks the client to stop reconnecting.",
          { status },
        ),
      };
    }
    if (status < 200 || status > 299) {
      this.#watchdog.stop();
      const bodyStart = await readBodyStart(response);
      const retried = isRetriedStatus(status);
      const error = new SSEClientError(
        "http-status",
        `The server answered ${status} ${response.statusText}`.trimEnd() +
          (retried
            ? "; retrying with backoff."
            : ". Not retried: fix the request (URL, credentials, method) or the server.") +
          (bodyStart ? ` Body: ${JSON.stringify(bodyStart.slice(0, 120))}` : ""),
        { status, bodyStart },
      );
      if (!retried) return { kind: "fatal", error };
      const retryAfterMs = parseRetryAfterMs(
        response.headers.get("retry-after"),
        this.#timers.now(),
      );
      return { kind: "retry", error, opened: false, retryAfterMs };
    }
    const contentType = response.headers.get("content-type");
    if (mimeEssence(contentType) !== "text/event-stream") {
      this.#watchdog.stop();
      const bodyStart = await readBodyStart(response);
      return {
        kind: "fatal",
        error: new SSEClientError(
          "bad-content-type",
          `The server answered ${status} with Content-Type ${JSON.stringify(contentType)}, ` +
            "not text/event-stream: this URL is not an event stream (a login page, a JSON " +
            "error?). Check the URL and the server.",
          { status, bodyStart },
        ),
      };
    }
    return undefined;
  }

  async #readBody(response: Response): Promise<Outcome> {
    this.#parser.reset();
    if (!response.body) return this.#ended();
    const reader = response.body.getReader();
    this.#reader = reader;
    try {
      while (true) {
        const demand = this.#sink.demand?.();
        if (demand) {
          // The consumer is busy: bytes not read are not late, so don't let the watchdog count.
          this.#watchdog.stop();
          await demand;
          if (this.#isClosed()) return { kind: "closed" };
          this.#watchdog.arm();
        }
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (cause) {
          return this.#broken(cause, true);
        }
        if (this.#isClosed()) return { kind: "closed" };
        if (this.#idleFired) return this.#broken(undefined, true);
        if (chunk.done) return this.#ended();
        this.#watchdog.arm();
        try {
          this.#parser.feed(chunk.value);
        } catch (cause) {
          if (!(cause instanceof SSEParseError)) throw cause;
          return {
            kind: "fatal",
            error: new SSEClientError(
              "parse-error",
              `${cause.message} Not retried: resuming would fetch the same event again.`,
              { cause, status: response.status },
            ),
          };
        }
        if (this.#isClosed()) return { kind: "closed" };
      }
    } finally {
      this.#reader = undefined;
      reader.releaseLock();
      if (this.#isClosed() || this.#idleFired) {
        response.body.cancel().catch(() => {/* already cancelled by close() */});
      }
    }
  }

  #ended(): Outcome {
    return {
      kind: "retry",
      opened: true,
      error: new SSEClientError(
        "stream-ended",
        "The server ended the stream; reconnecting with the last event ID, as the spec says.",
      ),
    };
  }

  /** The outcome of a fetch or read that threw (or was aborted by close or the watchdog). */
  #broken(cause: unknown, opened: boolean): Outcome {
    if (this.#isClosed()) return { kind: "closed" };
    if (this.#idleFired) {
      return {
        kind: "retry",
        opened,
        error: new SSEClientError(
          "idle-timeout",
          `No byte arrived for ${this.#options.idleTimeoutMs} ms (idleTimeoutMs): the ` +
            "connection is presumed dead; reconnecting. Have the server send comments as " +
            "heartbeats more often than that.",
        ),
      };
    }
    return {
      kind: "retry",
      opened,
      error: new SSEClientError(
        "network",
        `The ${opened ? "stream broke" : "request failed"}: ${
          (cause as Error)?.message ?? cause
        }; reconnecting.`,
        { cause },
      ),
    };
  }
}
