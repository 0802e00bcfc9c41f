/**
 * The time source of an SSE response: real timers by default, a fake one in tests that assert on
 * delays (keep-alive, max duration) without waiting for them.
 *
 * @example
 * ```ts
 * import { sseResponse, type SSEClock } from "@herald/sse";
 * const clock: SSEClock = {
 *   now: () => Date.now(),
 *   setTimeout: (fn, ms) => setTimeout(fn, ms),
 *   clearTimeout: (handle) => clearTimeout(handle as number),
 *   random: () => 0.5,
 * };
 * sseResponse([{ data: "hi" }], { clock, maxDurationMs: 60_000 });
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
 * import { systemClock } from "./clock.ts";
 * systemClock.setTimeout(() => console.log("later"), 10);
 * ```
 */
export const systemClock: SSEClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
};
