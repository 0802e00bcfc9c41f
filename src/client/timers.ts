/**
 * The clock a client uses for its reconnection delays, its idle watchdog and `Retry-After`
 * dates. Inject one in tests to assert the delays chosen rather than wall time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, sseResponse } from "@herald/sse";
 * import type { ClientTimers } from "@herald/sse/client";
 * // Record each delay and run it at once; the server asks for `retry: 250`.
 * const delaysMs: number[] = [];
 * const timers: ClientTimers = {
 *   setTimeout: (fn, ms) => (delaysMs.push(ms), setTimeout(fn, 0)),
 *   clearTimeout: (id) => clearTimeout(id as number),
 * };
 * const fetch = () => Promise.resolve(sseResponse([{ data: "x" }], { retryMs: 250 }));
 * const connection = connect("http://127.0.0.1:8000/events", {
 *   fetch,
 *   timers,
 *   retry: { jitter: 0 },
 * });
 * let messages = 0;
 * for await (const _ of connection) if (++messages === 2) break;
 * assert.deepEqual(delaysMs, [250]); // one reconnection, after the server's retry
 * ```
 */
export interface ClientTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  /** The current time in ms since the epoch (default `Date.now`), for `Retry-After` dates. */
  now?(): number;
}

/** The global timers, bound so that runtimes that check `this` accept the calls. */
export const GLOBAL_TIMERS: Required<ClientTimers> = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (id) => clearTimeout(id as number),
  now: () => Date.now(),
};
