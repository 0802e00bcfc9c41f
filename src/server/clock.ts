/**
 * The time source of an SSE response: real timers by default, a fake one in tests that assert on
 * delays (keep-alive, max duration) without waiting for them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseResponse } from "@herald/sse";
 * import type { SSEClock } from "@herald/sse/server";
 * // A clock that moves only when the test moves it.
 * let nowMs = 0;
 * const timers: { fn: () => void; ms: number }[] = [];
 * const clock: SSEClock = {
 *   now: () => nowMs,
 *   setTimeout: (fn, ms) => timers.push({ fn, ms }),
 *   clearTimeout: () => {},
 *   random: () => 0,
 * };
 * const response = sseResponse(() => {}, { clock, maxDurationMs: 10_000, keepAliveMs: 0 });
 * assert.equal(timers.at(-1)?.ms, 10_000); // the connection's next due: its max duration
 * nowMs = 10_000;
 * timers.at(-1)?.fn(); // the max duration elapses: the stream ends cleanly
 * assert.equal(await response.text(), ":\n\n");
 * ```
 */
export interface SSEClock {
  /** Milliseconds since some fixed point, like `Date.now()`. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds; returns a handle for {@link SSEClock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer that has not run yet. */
  clearTimeout(handle: unknown): void;
  /** A number in [0, 1), like `Math.random()`: the jitter of `maxDurationMs`. */
  random(): number;
}

/**
 * The real clock: `Date.now`, `setTimeout`, `clearTimeout`, `Math.random`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "./clock.ts";
 * const fired = await new Promise<number>((resolve) =>
 *   systemClock.setTimeout(() => resolve(systemClock.now()), 10)
 * );
 * assert.ok(fired > 0);
 * ```
 */
export const systemClock: SSEClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
};
