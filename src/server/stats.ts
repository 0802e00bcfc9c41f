/**
 * What the SSE responses of this isolate hold right now. After every client has left, every
 * count is back to zero: that is how tests (and a `/metrics` route) prove nothing leaks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseResponse } from "@herald/sse";
 * import { sseStats, type SSEStats } from "@herald/sse/server";
 * const before: SSEStats = sseStats();
 * const response = sseResponse(() => {}); // open until the client leaves
 * assert.equal(sseStats().open, before.open + 1);
 * await response.body?.cancel(); // the client leaves
 * const after: SSEStats = sseStats();
 * assert.equal(after.open, before.open);
 * assert.equal(after.closedByReason["client-disconnected"], (before.closedByReason["client-disconnected"] ?? 0) + 1);
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
 * import assert from "node:assert/strict";
 * import { sseResponse } from "@herald/sse";
 * import { sseStats } from "@herald/sse/server";
 * const response = sseResponse([{ data: "hi" }]);
 * await response.text();
 * assert.equal(sseStats().open, 0);
 * assert.equal(sseStats().timers, 0);
 * ```
 */
export function sseStats(): SSEStats {
  return { ...counters, closedByReason: { ...counters.closedByReason } };
}
