// The server watching itself: `GET /v1/stats` is an event stream of this isolate's own counters,
// one `stats` event a second, which the page draws as small charts. It is an ordinary
// `sseResponse` with a function source: each viewer's stream owns its timer (as Workers require),
// and closes with the client like any other stream.
import { sseResponse, type SSEResponseOptions } from "@herald/sse";
import { type SSEStats, sseStats } from "@herald/sse/server";
import { bearerKeyOf, findToken } from "./credentials.ts";
import { ServerError } from "./errors.ts";
import { verifyToken } from "./jwt.ts";
import { methodNotAllowed } from "./methods.ts";
import type { Metrics } from "./metrics.ts";

/** The `event:` name of one sample. */
export const STATS_EVENT = "stats";
/** How often a viewer gets a sample, unless told otherwise. */
export const DEFAULT_STATS_INTERVAL_MS = 1000;
/** Viewers one isolate serves at once; the next one is answered 429. */
export const DEFAULT_MAX_STATS_VIEWERS = 100;

/** One sample of the server's counters: totals since the isolate started, and rates since the
 * previous sample of the same stream. */
export interface LiveSample {
  /** When the sample was taken, in milliseconds since the epoch (the server's clock). */
  atMs: number;
  /** Event streams open in this isolate now (every `sseResponse`, this one included). */
  open: number;
  /** Events stored by the broker through this isolate. */
  published: number;
  /** Events handed to subscribers' streams. */
  delivered: number;
  /** Streams closed because their client could not keep up (`slow-client`); the client resumes
   * from its cursor, so nothing is lost, but it is the number to watch. */
  drops: number;
  /** Resumable streams (the AI answers) producing in this isolate now. */
  answers: number;
  /** Events waiting in slow clients' queues now. */
  queuedEvents: number;
  /** Per second since the previous sample (0 in a stream's first sample). */
  perSecond: { published: number; delivered: number; drops: number };
}

/**
 * One sample from the counters now, with rates against `previous` (the last sample sent on the
 * same stream).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseStats } from "@herald/sse/server";
 * import { liveSample } from "./live_stats.ts";
 * import { Metrics } from "./metrics.ts";
 * const metrics = new Metrics();
 * const first = liveSample(metrics, sseStats(), undefined, 10_000);
 * metrics.eventsPublished(30);
 * const second = liveSample(metrics, sseStats(), first, 12_000);
 * assert.equal(second.published, 30);
 * assert.equal(second.perSecond.published, 15);
 * assert.equal(first.perSecond.published, 0);
 * ```
 */
export function liveSample(
  metrics: Metrics,
  stats: SSEStats,
  previous: LiveSample | undefined,
  nowMs: number,
): LiveSample {
  const sample: LiveSample = {
    atMs: nowMs,
    open: stats.open,
    published: metrics.published,
    delivered: metrics.delivered,
    drops: stats.closedByReason["slow-client"] ?? 0,
    answers: metrics.streamsRunning,
    queuedEvents: stats.queuedEvents,
    perSecond: { published: 0, delivered: 0, drops: 0 },
  };
  const seconds = previous ? (nowMs - previous.atMs) / 1000 : 0;
  if (previous && seconds > 0) {
    const rate = (now: number, then: number) => Math.max(0, Math.round((now - then) / seconds));
    sample.perSecond = {
      published: rate(sample.published, previous.published),
      delivered: rate(sample.delivered, previous.delivered),
      drops: rate(sample.drops, previous.drops),
    };
  }
  return sample;
}

/** What {@link createLiveStats} needs. */
export interface LiveStatsOptions {
  metrics: Metrics;
  /** When set, a viewer needs this key (`Authorization: Bearer`) or a valid subscriber token
   * (as for `GET /v1/events`); unset, the stream is open, like `/metrics`. */
  metricsKey?: string;
  /** Verifies subscriber tokens. */
  jwtSecret: string;
  /** The cookie a subscriber token may come in. */
  tokenCookie: string;
  /** Between samples. Default {@link DEFAULT_STATS_INTERVAL_MS}. */
  intervalMs?: number;
  /** Default {@link DEFAULT_MAX_STATS_VIEWERS}. */
  maxViewers?: number;
  /** Passed on to every viewer's `sseResponse` (keep-alive, retry, shutdown signal, logger). */
  response?: Omit<SSEResponseOptions, "request" | "onClose">;
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
}

/** The live view's handler. Made by {@link createLiveStats}. */
export interface LiveStats {
  /** Answers `GET /v1/stats`: an event stream of {@link LiveSample}s, or a refusal. */
  response(request: Request): Promise<Response>;
  /** Viewers connected now. */
  readonly viewers: number;
}

/**
 * The `GET /v1/stats` handler: checks the viewer, then streams a {@link LiveSample} as a `stats`
 * event every `intervalMs` until the client leaves.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createParser } from "@herald/sse";
 * import { createLiveStats } from "./live_stats.ts";
 * import { Metrics } from "./metrics.ts";
 * const live = createLiveStats({
 *   metrics: new Metrics(),
 *   jwtSecret: "a-secret-of-at-least-32-characters!",
 *   tokenCookie: "herald_token",
 *   intervalMs: 10,
 * });
 * const response = await live.response(new Request("http://127.0.0.1/v1/stats"));
 * assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
 * const reader = response.body!.getReader();
 * const samples: unknown[] = [];
 * const parser = createParser({ onEvent: (m) => samples.push(JSON.parse(m.data)) });
 * while (samples.length < 2) parser.feed((await reader.read()).value ?? new Uint8Array());
 * await reader.cancel();
 * assert.equal(typeof (samples[1] as { perSecond: object }).perSecond, "object");
 * assert.equal(live.viewers, 0); // the viewer left
 *
 * // With a metrics key, a viewer needs it (or a subscriber token).
 * const guarded = createLiveStats({
 *   metrics: new Metrics(),
 *   metricsKey: "a-metrics-key-of-at-least-32-characters",
 *   jwtSecret: "a-secret-of-at-least-32-characters!",
 *   tokenCookie: "herald_token",
 * });
 * await assert.rejects(guarded.response(new Request("http://127.0.0.1/v1/stats")), {
 *   code: "metrics-key-invalid",
 * });
 * ```
 */
export function createLiveStats(options: LiveStatsOptions): LiveStats {
  const intervalMs = options.intervalMs ?? DEFAULT_STATS_INTERVAL_MS;
  const maxViewers = options.maxViewers ?? DEFAULT_MAX_STATS_VIEWERS;
  const now = options.now ?? Date.now;
  let viewers = 0;

  async function authorize(request: Request): Promise<void> {
    if (options.metricsKey === undefined) return;
    if (await bearerKeyOf(request, [options.metricsKey]) !== undefined) return;
    const found = findToken(request, options.tokenCookie);
    if (found) {
      // Throws token-invalid / token-expired with a message that says what to do.
      await verifyToken(found.token, options.jwtSecret, now());
      return;
    }
    throw new ServerError(
      "metrics-key-invalid",
      "/v1/stats needs `Authorization: Bearer <HERALD_METRICS_KEY>` or a subscriber token " +
        "when HERALD_METRICS_KEY is set.",
    );
  }

  return {
    get viewers() {
      return viewers;
    },
    async response(request) {
      // A HEAD (which Hono hands to GET routes) must not open a stream.
      if (request.method !== "GET") throw methodNotAllowed(request.method, "/v1/stats", ["GET"]);
      await authorize(request);
      if (viewers >= maxViewers) {
        throw new ServerError(
          "rate-limited",
          `${maxViewers} live views are open on this server already; close one or try later.`,
          { headers: { "retry-after": "10" } },
        );
      }
      viewers++;
      let counted = true;
      const release = () => {
        if (counted) viewers--;
        counted = false;
      };
      try {
        return sseResponse<{ stats: LiveSample }>(async (stream) => {
          let previous: LiveSample | undefined;
          while (!stream.signal.aborted) {
            previous = liveSample(options.metrics, sseStats(), previous, now());
            try {
              await stream.send({ event: STATS_EVENT, data: previous });
            } catch (error) {
              if (stream.signal.aborted) return; // the viewer left while the sample was queued
              throw error;
            }
            await sleep(intervalMs, stream.signal);
          }
        }, { ...options.response, request, onClose: release });
      } catch (error) {
        release();
        throw error;
      }
    },
  };
}

/** Resolves after `ms`, or at once when `signal` aborts (and then leaves no timer behind). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
