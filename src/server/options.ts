import type { SSEEvent } from "../protocol/types.ts";
import type { SSEClock } from "./clock.ts";
import type { SSECloseReason } from "./close_reason.ts";
import type { SSEQueuePolicy } from "./queue.ts";
import { SSEResponseError } from "./response_errors.ts";
import type { HeadersInitLike } from "../web_types.ts";

/**
 * A keep-alive comment every 15 s when nothing else was written. On Bun the default is 8 s, under
 * Bun.serve's 10 s idle timeout (see `serverIdleTimeoutMs` in capabilities.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_KEEP_ALIVE_MS } from "@herald/sse/server";
 * assert.equal(DEFAULT_KEEP_ALIVE_MS, 15_000);
 * ```
 */
export const DEFAULT_KEEP_ALIVE_MS = 15_000;
/**
 * At most this many events wait for a slow client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAX_QUEUED_EVENTS } from "@herald/sse/server";
 * assert.equal(DEFAULT_MAX_QUEUED_EVENTS, 1024);
 * ```
 */
export const DEFAULT_MAX_QUEUED_EVENTS = 1024;
/**
 * At most this many UTF-8 bytes wait for a slow client (1 MiB).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAX_QUEUED_BYTES } from "@herald/sse/server";
 * assert.equal(DEFAULT_MAX_QUEUED_BYTES, 1024 * 1024);
 * ```
 */
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;
/**
 * A client that takes nothing for this long while events wait for it is a slow client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_SLOW_CLIENT_TIMEOUT_MS } from "@herald/sse/server";
 * assert.equal(DEFAULT_SLOW_CLIENT_TIMEOUT_MS, 30_000);
 * ```
 */
export const DEFAULT_SLOW_CLIENT_TIMEOUT_MS = 30_000;
/** `maxDurationMs` is shortened by up to this fraction, at random, so reconnects spread out. */
export const DEFAULT_MAX_DURATION_JITTER = 0.1;

/**
 * Where errors go: the producer's, a refused event's, a throwing `onClose`'s. `console` fits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseResponse, type SSELogger } from "@herald/sse";
 * const logged: unknown[] = [];
 * const logger: SSELogger = { error: (_message, error) => logged.push(error) };
 * const response = sseResponse(() => Promise.reject(new Error("upstream failed")), { logger });
 * await response.text(); // the client sees the stream end, never the error
 * assert.equal((logged[0] as Error).message, "upstream failed");
 * ```
 */
export interface SSELogger {
  error(message: string, error: unknown): void;
}

/**
 * Options of `sseResponse`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type SSECloseReason, sseResponse, type SSEResponseOptions } from "@herald/sse";
 * const closes: SSECloseReason[] = [];
 * const options: SSEResponseOptions = {
 *   keepAliveMs: 8_000, // under Bun's 10 s idle timeout, so safe on every runtime
 *   maxDurationMs: 280_000, // end before Vercel Edge's 300 s; the client resumes
 *   retryMs: 2_000,
 *   onClose: (reason) => closes.push(reason),
 * };
 * const response = sseResponse([{ data: "hi" }], options);
 * assert.equal(await response.text(), "retry: 2000\n:\n\ndata: hi\n\n");
 * assert.deepEqual(closes, ["producer-done"]);
 * ```
 */
export interface SSEResponseOptions {
  /** The request being answered: its `signal` closes the stream (`client-disconnected`; on Deno
   * and Bun the body's cancel() does that instead, see request_signal.ts), its `Last-Event-ID`
   * header is handed to a function source as `stream.lastEventId`. */
  request?: Request;
  /** Closes the stream with reason `aborted` when it aborts (e.g. a server shutting down). */
  signal?: AbortSignal;
  /** The response status (default 200). */
  status?: number;
  /** The response status text. */
  statusText?: string;
  /** Headers merged over Herald's event-stream headers (`Connection`, `Transfer-Encoding`,
   * `Content-Encoding`, `Content-Length` are dropped: they break or buffer streams). */
  headers?: HeadersInitLike;
  /** Sent first as `retry:`: how long a client waits before reconnecting, in milliseconds. */
  retryMs?: number;
  /** The text of the comment sent first, at once, so proxies and `fetch` see the stream start. */
  openComment?: string;
  /** A comment every this many ms when nothing else was written (default 15000, on Bun 8000;
   * 0 = none). */
  keepAliveMs?: number;
  /** End the stream cleanly after this long (shortened by up to `maxDurationJitter`). */
  maxDurationMs?: number;
  /** The fraction by which `maxDurationMs` is shortened at random (default 0.1: 90–100 %). */
  maxDurationJitter?: number;
  /** The most events waiting for the network (default 1024). An event always fits an empty queue. */
  maxQueuedEvents?: number;
  /** The most UTF-8 bytes waiting for the network (default 1 MiB). */
  maxQueuedBytes?: number;
  /** What a full queue does: `"close"` (default) or `"drop-oldest"`. */
  queuePolicy?: SSEQueuePolicy;
  /** A client that takes nothing for this long while events wait is closed as `slow-client`
   * (default 30000). */
  slowClientTimeoutMs?: number;
  /** Called once, when the stream closes, with the reason. */
  onClose?: (reason: SSECloseReason) => void;
  /** Maps a producer's error to a safe event for the client (sent before the stream ends). The
   * client never sees the error itself. */
  onError?: (error: unknown) => SSEEvent | undefined | void;
  /** Where errors are reported (default `console`). */
  logger?: SSELogger;
  /** Timers and randomness; replace in tests. */
  clock?: SSEClock;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new SSEResponseError(
      "invalid-option",
      `${name} must be a positive integer, got ${value}.`,
    );
  }
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
    throw new SSEResponseError(
      "invalid-option",
      `${name} must be a non-negative number of milliseconds, got ${value}.`,
    );
  }
  return value;
}

/** The options with defaults applied and validated; throws SSEResponseError on nonsense. */
export interface ResolvedOptions {
  keepAliveMs: number;
  maxDurationMs: number | undefined;
  maxDurationJitter: number;
  maxQueuedEvents: number;
  maxQueuedBytes: number;
  queuePolicy: SSEQueuePolicy;
  slowClientTimeoutMs: number;
}

/**
 * Applies defaults to the numeric options and checks them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveOptions } from "./options.ts";
 * const limits = resolveOptions({ keepAliveMs: 5000 }, 15_000);
 * assert.equal(limits.keepAliveMs, 5000);
 * assert.equal(limits.maxQueuedEvents, 1024);
 * ```
 */
export function resolveOptions(
  options: SSEResponseOptions,
  defaultKeepAliveMs: number,
): ResolvedOptions {
  // The common case, no limit given: one shared object instead of one per connection.
  if (
    options.keepAliveMs === undefined && options.maxDurationMs === undefined &&
    options.maxDurationJitter === undefined && options.maxQueuedEvents === undefined &&
    options.maxQueuedBytes === undefined && options.queuePolicy === undefined &&
    options.slowClientTimeoutMs === undefined
  ) {
    return defaultsFor(defaultKeepAliveMs);
  }
  return resolveGiven(options, defaultKeepAliveMs);
}

const sharedDefaults = new Map<number, ResolvedOptions>();
function defaultsFor(keepAliveMs: number): ResolvedOptions {
  let defaults = sharedDefaults.get(keepAliveMs);
  if (!defaults) {
    defaults = Object.freeze(resolveGiven({}, keepAliveMs));
    sharedDefaults.set(keepAliveMs, defaults);
  }
  return defaults;
}

function resolveGiven(options: SSEResponseOptions, defaultKeepAliveMs: number): ResolvedOptions {
  const jitter = options.maxDurationJitter ?? DEFAULT_MAX_DURATION_JITTER;
  if (!(jitter >= 0 && jitter < 1)) {
    throw new SSEResponseError(
      "invalid-option",
      `maxDurationJitter must be in [0, 1), got ${jitter}.`,
    );
  }
  const policy = options.queuePolicy ?? "close";
  if (policy !== "close" && policy !== "drop-oldest") {
    throw new SSEResponseError(
      "invalid-option",
      `queuePolicy must be "close" or "drop-oldest", got ${String(policy)}.`,
    );
  }
  return {
    keepAliveMs: nonNegative("keepAliveMs", options.keepAliveMs, defaultKeepAliveMs),
    maxDurationMs: options.maxDurationMs === undefined
      ? undefined
      : positiveInteger("maxDurationMs", options.maxDurationMs, 0),
    maxDurationJitter: jitter,
    maxQueuedEvents: positiveInteger(
      "maxQueuedEvents",
      options.maxQueuedEvents,
      DEFAULT_MAX_QUEUED_EVENTS,
    ),
    maxQueuedBytes: positiveInteger(
      "maxQueuedBytes",
      options.maxQueuedBytes,
      DEFAULT_MAX_QUEUED_BYTES,
    ),
    queuePolicy: policy,
    slowClientTimeoutMs: positiveInteger(
      "slowClientTimeoutMs",
      options.slowClientTimeoutMs,
      DEFAULT_SLOW_CLIENT_TIMEOUT_MS,
    ),
  };
}
