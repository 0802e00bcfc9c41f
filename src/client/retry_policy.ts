import { SSEClientError } from "./client_errors.ts";

/**
 * How long the client waits before reconnecting: `initialMs` after the first failure, growing by
 * `factor` per failure in a row, capped at `maxMs`, with up to `jitter` (a fraction) taken off at
 * random so that many clients dropped at once don't return at once. A `retry:` field from the
 * server replaces `initialMs` (the base) from then on. A connection that opens resets the count.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, type RetryPolicy, SSEClientError } from "@herald/sse";
 * const retry: RetryPolicy = { initialMs: 500, maxMs: 10_000, factor: 2, jitter: 0.3 };
 * connect("http://127.0.0.1:8000/events", { retry }).close();
 * assert.throws(
 *   () => connect("http://127.0.0.1:8000/events", { retry: { factor: 0.5 } }),
 *   (error) => error instanceof SSEClientError && error.code === "invalid-options",
 * );
 * ```
 */
export interface RetryPolicy {
  /** The first delay, in ms, until the server sends `retry:` (default 3000, as browsers). */
  initialMs?: number;
  /** The longest delay, in ms (default 30 000). A server's `retry:` above it still wins. */
  maxMs?: number;
  /** The growth per failure in a row (default 2; 1 keeps the delay constant). */
  factor?: number;
  /** The fraction of each delay that may be taken off at random, 0 to 1 (default 0.2). */
  jitter?: number;
}

/**
 * The policy used where an option is left out: 3 s as browsers, doubling up to 30 s, with up to
 * 20 % taken off at random.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_RETRY_POLICY } from "@herald/sse/client";
 * assert.deepEqual(DEFAULT_RETRY_POLICY, { initialMs: 3000, maxMs: 30_000, factor: 2, jitter: 0.2 });
 * ```
 */
export const DEFAULT_RETRY_POLICY: Readonly<Required<RetryPolicy>> = Object.freeze({
  initialMs: 3000,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.2,
});

function invalid(name: string, value: unknown, rule: string): never {
  throw new SSEClientError(
    "invalid-options",
    `retry.${name} must be ${rule}, got ${String(value)}. Fix the client's retry options.`,
  );
}

/**
 * Fills in defaults and checks a {@link RetryPolicy}; an unusable value throws
 * {@link SSEClientError} with code `invalid-options`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveRetryPolicy } from "./retry_policy.ts";
 * assert.deepEqual(resolveRetryPolicy({ initialMs: 100 }), {
 *   initialMs: 100,
 *   maxMs: 30_000,
 *   factor: 2,
 *   jitter: 0.2,
 * });
 * ```
 */
export function resolveRetryPolicy(policy: RetryPolicy = {}): Required<RetryPolicy> {
  const resolved = { ...DEFAULT_RETRY_POLICY, ...stripUndefined(policy) };
  const { initialMs, maxMs, factor, jitter } = resolved;
  if (!(Number.isFinite(initialMs) && initialMs >= 0)) {
    invalid("initialMs", initialMs, "a finite number >= 0");
  }
  if (!(Number.isFinite(maxMs) && maxMs >= 0)) invalid("maxMs", maxMs, "a finite number >= 0");
  if (!(Number.isFinite(factor) && factor >= 1)) invalid("factor", factor, "a finite number >= 1");
  if (!(jitter >= 0 && jitter <= 1)) invalid("jitter", jitter, "a number from 0 to 1");
  return resolved;
}

function stripUndefined(policy: RetryPolicy): RetryPolicy {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(policy)) if (value !== undefined) out[key] = value;
  return out;
}

/** The inputs of one delay computation. */
export interface RetryDelayInput {
  /** Failures in a row, counting the one just seen: 1 for the first. */
  failures: number;
  /** The base delay in ms: `initialMs`, or the server's last `retry:`. */
  baseMs: number;
  /** The server's `Retry-After`, in ms, if it sent one: the delay is never shorter. */
  retryAfterMs?: number;
  /** A random number in [0, 1), for jitter. */
  random: number;
}

/**
 * The delay before the next attempt, in ms: `baseMs * factor^(failures - 1)`, capped at
 * `max(maxMs, baseMs)`, minus up to `jitter` of it, and never less than `retryAfterMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveRetryPolicy, retryDelayMs } from "./retry_policy.ts";
 * const policy = resolveRetryPolicy({ initialMs: 100, factor: 2, maxMs: 1000, jitter: 0 });
 * const delays = [1, 2, 3, 4, 5].map((failures) =>
 *   retryDelayMs(policy, { failures, baseMs: 100, random: 0.5 })
 * );
 * assert.deepEqual(delays, [100, 200, 400, 800, 1000]);
 * ```
 */
export function retryDelayMs(policy: Required<RetryPolicy>, input: RetryDelayInput): number {
  const capMs = Math.max(policy.maxMs, input.baseMs);
  const grownMs = input.baseMs * Math.pow(policy.factor, Math.max(0, input.failures - 1));
  const delayMs = Math.min(capMs, grownMs);
  const jitteredMs = Math.round(delayMs * (1 - policy.jitter * input.random));
  return Math.max(jitteredMs, input.retryAfterMs ?? 0);
}

/**
 * Reads a `Retry-After` header (delay-seconds or an HTTP date) as milliseconds from `nowMs`;
 * `undefined` when absent or unreadable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRetryAfterMs } from "./retry_policy.ts";
 * assert.equal(parseRetryAfterMs("2", 0), 2000);
 * assert.equal(parseRetryAfterMs("Thu, 01 Jan 1970 00:00:05 GMT", 1000), 4000);
 * assert.equal(parseRetryAfterMs("soon", 0), undefined);
 * ```
 */
export function parseRetryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return parseInt(text, 10) * 1000;
  const dateMs = Date.parse(text);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, dateMs - nowMs);
}
