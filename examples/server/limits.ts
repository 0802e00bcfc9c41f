// Per-isolate limits: open connections per token and per address, and token buckets (publish
// rate per key, subscribe rate per token and per address, failed authentications per address).
// Counted in this isolate's memory: one process on Deno or Bun; on Workers each isolate counts
// its own (use Cloudflare's rate limiting rules for a global cap).
import { ServerError } from "./errors.ts";

/**
 * Counts open subscriptions per token and per client address, and refuses one more than allowed
 * with a 429. `acquire` returns a `release` function that must run exactly once when the stream
 * closes (calling it again does nothing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionLimiter } from "./limits.ts";
 * const limiter = new ConnectionLimiter({ perToken: 1, perAddress: 10 });
 * const release = limiter.acquire("token-a", "10.0.0.1");
 * assert.throws(
 *   () => limiter.acquire("token-a", "10.0.0.1"),
 *   { code: "too-many-connections-per-token" },
 * );
 * release();
 * assert.equal(limiter.countToken("token-a"), 0);
 * ```
 */
export class ConnectionLimiter {
  readonly #perToken: number;
  readonly #perAddress: number;
  readonly #byToken = new Map<string, number>();
  readonly #byAddress = new Map<string, number>();

  constructor(limits: { perToken: number; perAddress: number }) {
    this.#perToken = limits.perToken;
    this.#perAddress = limits.perAddress;
  }

  /** Open subscriptions held by `token` now. */
  countToken(token: string): number {
    return this.#byToken.get(token) ?? 0;
  }

  /** Open subscriptions held by `address` now. */
  countAddress(address: string): number {
    return this.#byAddress.get(address) ?? 0;
  }

  /** Takes one connection slot for both keys, or throws a 429 {@link ServerError}. */
  acquire(token: string, address: string): () => void {
    if (this.countToken(token) >= this.#perToken) {
      throw new ServerError(
        "too-many-connections-per-token",
        `This token already holds ${this.#perToken} open connection(s), the most allowed ` +
          "(HERALD_MAX_CONNECTIONS_PER_TOKEN). Close one, or subscribe to several topics in one.",
        { headers: { "retry-after": "5" } },
      );
    }
    if (this.countAddress(address) >= this.#perAddress) {
      throw new ServerError(
        "too-many-connections-per-address",
        `Your address already holds ${this.#perAddress} open connection(s), the most allowed ` +
          "(HERALD_MAX_CONNECTIONS_PER_ADDRESS). Close one and try again.",
        { headers: { "retry-after": "5" } },
      );
    }
    this.#byToken.set(token, this.countToken(token) + 1);
    this.#byAddress.set(address, this.countAddress(address) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      decrement(this.#byToken, token);
      decrement(this.#byAddress, address);
    };
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 1) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}

/** Builds the refusal of a key whose bucket is empty, given the seconds it must wait. */
export type Refusal = (waitSeconds: number) => ServerError;

/**
 * A token bucket per key: `burst` requests at once, refilled at `ratePerSecond`. `take(key)`
 * spends one request or throws the `refusal` (a 429 with `Retry-After`) when the bucket is empty;
 * `tryTake` and `waitSeconds` do the same without throwing. The clock is injectable so tests
 * assert the arithmetic, not wall time.
 *
 * Memory is bounded whatever the keys (addresses, tokens) an attacker makes up: buckets that
 * have refilled are forgotten (they equal a new one), swept at most once per refill period, and
 * past `maxKeys` the least recently used bucket goes (its key starts again with a full burst).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RateLimiter } from "./limits.ts";
 * let now = 0;
 * const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2, now: () => now });
 * limiter.take("k");
 * limiter.take("k");
 * assert.throws(() => limiter.take("k"), { code: "rate-limited" });
 * assert.equal(limiter.waitSeconds("k"), 1);
 * now += 1000;
 * limiter.take("k"); // refilled one
 * ```
 */
export class RateLimiter {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #refusal: Refusal;
  readonly #maxKeys: number;
  readonly #fullAfterMs: number;
  // In least-recently-used order: a key is moved to the end whenever it is used.
  readonly #buckets = new Map<string, { tokens: number; atMs: number }>();
  #sweptAtMs = -Infinity;

  constructor(options: {
    ratePerSecond: number;
    burst: number;
    now?: () => number;
    /** The error `take` throws; default a `rate-limited` 429 worded for publisher keys. */
    refusal?: Refusal;
    /** The most keys remembered at once (default 100 000). */
    maxKeys?: number;
  }) {
    this.#ratePerMs = options.ratePerSecond / 1000;
    this.#burst = options.burst;
    this.#now = options.now ?? Date.now;
    this.#refusal = options.refusal ?? publishRefusal(options.ratePerSecond, options.burst);
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#fullAfterMs = this.#burst / this.#ratePerMs;
  }

  /** Keys remembered now (idle ones are forgotten). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Spends one request of `key`'s bucket, or throws the refusal. */
  take(key: string): void {
    const wait = this.tryTake(key);
    if (wait > 0) throw this.#refusal(wait);
  }

  /** Spends one request of `key`'s bucket and returns 0, or returns the whole seconds to wait
   * (at least 1) and spends nothing. */
  tryTake(key: string): number {
    const now = this.#now();
    const tokens = this.#tokens(key, now);
    if (tokens < 1) {
      this.#remember(key, tokens, now);
      return this.#secondsUntilOne(tokens);
    }
    this.#remember(key, tokens - 1, now);
    return 0;
  }

  /** Throws the refusal when `key`'s bucket is empty; spends nothing. */
  check(key: string): void {
    const wait = this.waitSeconds(key);
    if (wait > 0) throw this.#refusal(wait);
  }

  /** The whole seconds `key` must wait before its next request (0: it may go now). */
  waitSeconds(key: string): number {
    const tokens = this.#tokens(key, this.#now());
    return tokens < 1 ? this.#secondsUntilOne(tokens) : 0;
  }

  #tokens(key: string, now: number): number {
    const bucket = this.#buckets.get(key);
    if (!bucket) return this.#burst;
    return Math.min(this.#burst, bucket.tokens + Math.max(0, now - bucket.atMs) * this.#ratePerMs);
  }

  #secondsUntilOne(tokens: number): number {
    return Math.max(1, Math.ceil((1 - tokens) / this.#ratePerMs / 1000));
  }

  #remember(key: string, tokens: number, now: number): void {
    this.#buckets.delete(key);
    this.#buckets.set(key, { tokens, atMs: now });
    if (this.#buckets.size > this.#maxKeys) {
      // Keys made up faster than they refill: drop the least recently used, in O(1).
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    if (now - this.#sweptAtMs >= this.#fullAfterMs) this.#sweep(now);
  }

  /** Forgets every bucket that has refilled: O(keys), so at most once per refill period. */
  #sweep(now: number): void {
    this.#sweptAtMs = now;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.atMs) * this.#ratePerMs >= this.#burst) {
        this.#buckets.delete(key);
      }
    }
  }
}

function publishRefusal(ratePerSecond: number, burst: number): Refusal {
  return (waitSeconds) =>
    new ServerError(
      "rate-limited",
      `This publisher key is publishing faster than ${ratePerSecond}/s ` +
        `(burst ${burst}; HERALD_PUBLISH_RATE_PER_SECOND, HERALD_PUBLISH_BURST). ` +
        `Retry after ${waitSeconds} s, or batch events into one publish.`,
      { headers: { "retry-after": String(waitSeconds) } },
    );
}

/**
 * Failed authentications per client address, as a token bucket of failures: `burst` failures at
 * once, forgiven at `ratePerSecond`. Once an address has none left, `check` refuses its requests
 * with a 429 (`too-many-auth-failures`, `Retry-After`) before any credential is looked at, so
 * guessing keys or tokens costs the guesser time and the server next to nothing. Call `check`
 * again once a credential proved right, and answer what `record` returns for a wrong one: then a
 * throttled address gets 429 whether its guess was right or wrong, so concurrent guesses that all
 * passed the first check tell the guesser nothing beyond the burst.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthFailureThrottle } from "./limits.ts";
 * let now = 0;
 * const throttle = new AuthFailureThrottle({ ratePerSecond: 1, burst: 2, now: () => now });
 * assert.equal(throttle.record("10.0.0.1"), undefined); // answer the 401
 * throttle.check("10.0.0.1"); // one failure left
 * throttle.record("10.0.0.1");
 * assert.throws(() => throttle.check("10.0.0.1"), { code: "too-many-auth-failures" });
 * assert.equal(throttle.record("10.0.0.1")?.code, "too-many-auth-failures"); // not the 401
 * throttle.check("10.0.0.2"); // other addresses are not touched
 * now += 1000;
 * throttle.check("10.0.0.1"); // one failure forgiven
 * ```
 */
export class AuthFailureThrottle {
  readonly #failures: RateLimiter;
  readonly #refusal: Refusal;

  constructor(options: { ratePerSecond: number; burst: number; now?: () => number }) {
    this.#refusal = (waitSeconds) =>
      new ServerError(
        "too-many-auth-failures",
        `Too many failed authentications from your address (more than ${options.burst}, ` +
          `forgiven at ${options.ratePerSecond}/s; HERALD_AUTH_FAILURE_BURST, ` +
          `HERALD_AUTH_FAILURE_RATE_PER_SECOND). Check your token or key, and retry after ` +
          `${waitSeconds} s.`,
        { headers: { "retry-after": String(waitSeconds) } },
      );
    this.#failures = new RateLimiter({ ...options, refusal: this.#refusal });
  }

  /** Throws `too-many-auth-failures` while `address` has no failure left. */
  check(address: string): void {
    this.#failures.check(address);
  }

  /**
   * Counts one failed authentication of `address`. Returns the 429 to answer instead of the 401
   * when the address had no failure left: requests that passed `check` together (concurrent
   * guesses) learn nothing once their address has run out, whatever order they finish in.
   */
  record(address: string): ServerError | undefined {
    const wait = this.#failures.tryTake(address);
    return wait > 0 ? this.#refusal(wait) : undefined;
  }
}

/**
 * A token bucket of subscribe requests for one kind of key (a token, or a client address), whose
 * refusal is a 429 `too-many-subscribes` with `Retry-After` naming the setting to raise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { subscribeRate } from "./limits.ts";
 * const perToken = subscribeRate("token", { ratePerSecond: 1, burst: 1, now: () => 0 });
 * perToken.take("signature-of-a-token");
 * assert.throws(() => perToken.take("signature-of-a-token"), { code: "too-many-subscribes" });
 * ```
 */
export function subscribeRate(
  per: "token" | "address",
  options: { ratePerSecond: number; burst: number; now?: () => number },
): RateLimiter {
  const settings = per === "token"
    ? "HERALD_SUBSCRIBE_RATE_PER_SECOND, HERALD_SUBSCRIBE_BURST"
    : "HERALD_ADDRESS_SUBSCRIBE_RATE_PER_SECOND, HERALD_ADDRESS_SUBSCRIBE_BURST";
  return new RateLimiter({
    ...options,
    refusal: (waitSeconds) =>
      new ServerError(
        "too-many-subscribes",
        `${per === "token" ? "This token" : "Your address"} opens subscriptions faster than ` +
          `${options.ratePerSecond}/s (burst ${options.burst}; ${settings}). Retry after ` +
          `${waitSeconds} s; a client should keep one stream open rather than reconnect often.`,
        { headers: { "retry-after": String(waitSeconds) } },
      ),
  });
}
