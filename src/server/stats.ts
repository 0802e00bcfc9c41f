/**
 * What the SSE responses of this isolate hold right now. After every client has left, every
 * count is back to zero: that is how tests (and a `/metrics` route) prove nothing leaks.
 *
 * @example
 * ```ts
 * import { sseStats, type SSEStats } from "@herald/sse";
 * const stats: SSEStats = sseStats();
 * console.log(stats.open, stats.timers, stats.queuedBytes);
 * ```
 */
export interface SSEStats {
  /** Responses whose close signal has not fired yet. */
  open: number;
  /** Live timers (keep-alive, max duration, slow-client) owned by responses. */
  timers: number;
  /** Producers still running: function sources whose promise has not settled, source pumps. */
  producers: number;
  /** Events accepted into queues and not yet taken by the network. */
  queuedEvents: number;
  /** UTF-8 bytes of those events. */
  queuedBytes: number;
  /** Responses opened since this isolate started. */
  totalOpened: number;
  /** Responses closed since this isolate started, by reason. */
  closedByReason: Record<string, number>;
}

/** The live counters; mutated by connections, read through {@link sseStats}. */
export const counters = {
  open: 0,
  timers: 0,
  producers: 0,
  queuedEvents: 0,
  queuedBytes: 0,
  totalOpened: 0,
  closedByReason: {} as Record<string, number>,
};

/**
 * A snapshot of what the SSE responses of this isolate (process, or Workers isolate) hold.
 *
 * @example
 * ```ts
 * import { sseResponse, sseStats } from "@herald/sse";
 * const response = sseResponse([{ data: "hi" }]);
 * await response.text();
 * console.log(sseStats().open); // 0
 * ```
 */
export function sseStats(): SSEStats {
  return { ...counters, closedByReason: { ...counters.closedByReason } };
}
