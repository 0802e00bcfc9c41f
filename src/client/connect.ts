import type { SSEMessage } from "../protocol/types.ts";
import type { SSEClientError } from "./client_errors.ts";
import { ConnectionLoop, type ReadyState } from "./connection_loop.ts";
import type { ConnectOptions } from "./options.ts";

/**
 * A live, reconnecting event stream: iterate it with `for await` to receive every message once,
 * in order, across reconnections. Breaking out of the loop closes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, sseResponse } from "@herald/sse";
 * // A server's response through the `fetch` option; leave it out to use the network.
 * const fetch = () => Promise.resolve(sseResponse([{ id: "1", data: "a" }, { id: "2", data: "b" }]));
 * const connection = connect("http://127.0.0.1:8000/events", { fetch });
 * const errors: string[] = [];
 * connection.onerror = (error) => errors.push(error.code); // then it reconnects
 * for await (const message of connection) {
 *   if (message.id === "1") break; // leaving the loop closes the connection
 * }
 * assert.equal(connection.lastEventId, "1"); // what to resume from: the last message handled
 * assert.equal(connection.readyState, 2); // CLOSED
 * ```
 */
export interface SSEConnection extends AsyncIterableIterator<SSEMessage> {
  /** CONNECTING (0), OPEN (1) or CLOSED (2), as `EventSource.readyState`. */
  readonly readyState: ReadyState;
  /**
   * The last event ID of the last message this connection has handed to the program (yielded by
   * `next()`, so by the `for await` loop), or the `lastEventId` option before the first one. Save
   * it to resume later with `connect(url, { lastEventId })`: messages that were read from the
   * network but not yet consumed don't move it, so nothing is skipped. (A reconnection sends the
   * ID of the last message *read*, since the messages read before it are still delivered.)
   */
  readonly lastEventId: string;
  /** The absolute URL connected to. */
  readonly url: string;
  /** Called each time a connection opens, with its response. */
  onopen: ((response: Response) => void) | null;
  /**
   * Called with each failure. `readyState` says what follows: CONNECTING, a reconnection after
   * the backoff; CLOSED, nothing (the iteration then throws the same error).
   */
  onerror: ((error: SSEClientError) => void) | null;
  /** Closes for good: the iteration ends and nothing more is delivered, not even queued messages. */
  close(): void;
}

/**
 * Runs a user hook as an event listener runs: an exception is reported (`reportError`, as
 * `dispatchEvent` does for listeners), not allowed to break the connection loop.
 */
function callHook(hook: () => void): void {
  try {
    hook();
  } catch (error) {
    const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
    if (report) report(error);
    else {queueMicrotask(() => {
        throw error;
      });}
  }
}

/**
 * Connects to an event stream with `fetch` and keeps it alive: reconnects with `Last-Event-ID`
 * after a drop, backs off on 5xx/429/network errors (honouring `Retry-After`), stops on 204,
 * fails with a typed {@link SSEClientError} on other 4xx or a wrong content type. The body is read
 * only as fast as the loop consumes messages. Runs wherever `fetch` and web streams do.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, sseResponse } from "@herald/sse";
 * // A server that numbers its events after the client's Last-Event-ID, through the `fetch`
 * // option (leave it out to use the network).
 * const fetch = (_url: string, init: RequestInit) => {
 *   const headers = new Headers(init.headers);
 *   const after = Number(headers.get("last-event-id") ?? 0);
 *   assert.equal(headers.get("authorization"), "Bearer token");
 *   return Promise.resolve(
 *     sseResponse(
 *       [1, 2].map((n) => ({ event: "tick", id: String(after + n), data: after + n })),
 *       { retryMs: 50 }, // reconnect after 50 ms
 *     ),
 *   );
 * };
 * const controller = new AbortController();
 * const connection = connect("http://127.0.0.1:8000/events", {
 *   headers: () => ({ authorization: "Bearer token" }), // called before every attempt
 *   signal: controller.signal,
 *   fetch,
 * });
 * const data: string[] = [];
 * for await (const message of connection) {
 *   data.push(message.data); // across the reconnection after each stream's end
 *   if (data.length === 4) controller.abort();
 * }
 * assert.deepEqual(data, ["1", "2", "3", "4"]);
 * ```
 */
export function connect(url: string | URL, options: ConnectOptions = {}): SSEConnection {
  const queue: SSEMessage[] = [];
  // The position a program may save: the last event ID of the last message it was handed, not
  // the parser's, which runs ahead of the loop by whatever is queued.
  let consumedId = options.lastEventId ?? "";
  let finalError: SSEClientError | undefined;
  let ended = false;
  // A pending next() of the consumer; a pending wait of the loop for the queue to drain.
  let waiting: { resolve(r: IteratorResult<SSEMessage>): void; reject(e: unknown): void } | null =
    null;
  let drained: (() => void) | null = null;
  let drainedPromise: Promise<void> | undefined;

  function settleWaiting(): void {
    if (!waiting) return;
    const pending = waiting;
    if (queue.length > 0) {
      waiting = null;
      const value = queue.shift()!;
      consumedId = value.lastEventId;
      pending.resolve({ value, done: false });
    } else if (ended) {
      waiting = null;
      if (finalError) {
        const error = finalError;
        finalError = undefined;
        pending.reject(error);
      } else pending.resolve({ value: undefined, done: true });
    }
  }

  function release(): void {
    if (queue.length > 0 && !ended) return;
    const wake = drained;
    drained = null;
    drainedPromise = undefined;
    wake?.();
  }

  const connection: SSEConnection = {
    get readyState() {
      return loop.readyState;
    },
    get lastEventId() {
      return consumedId;
    },
    get url() {
      return loop.url;
    },
    onopen: null,
    onerror: null,
    close() {
      loop.close();
    },
    next() {
      if (queue.length > 0) {
        const value = queue.shift()!;
        consumedId = value.lastEventId;
        release();
        return Promise.resolve({ value, done: false });
      }
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        settleWaiting();
      });
    },
    return() {
      loop.close();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };

  const loop = new ConnectionLoop(url, options, {
    open(response) {
      callHook(() => connection.onopen?.(response));
    },
    message(message) {
      queue.push(message);
      settleWaiting();
    },
    error(error, willRetry) {
      if (!willRetry && error.code !== "no-content") finalError = error;
      if (error.code === "no-content") return; // 204 ends the iteration quietly
      callHook(() => connection.onerror?.(error));
    },
    closed() {
      ended = true;
      // No message is delivered after close(), even one already queued.
      if (!finalError) queue.length = 0;
      settleWaiting();
      release();
    },
    demand() {
      if (queue.length === 0) return undefined;
      drainedPromise ??= new Promise<void>((resolve) => (drained = resolve));
      return drainedPromise;
    },
  });
  return connection;
}
