// Per-isolate limits: open connections per token and per address, and a publish rate per key.
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
 * import { ConnectionLimiter } from "./limits.ts";
 * const limiter = new ConnectionLimiter({ perToken: 1, perAddress: 10 });
 * const release = limiter.acquire("token-a", "10.0.0.1");
 * // limiter.acquire("token-a", "10.0.0.1") would throw: too-many-connections-per-token
 * release();
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

/**
 * A token bucket per key: `burst` requests at once, refilled at `ratePerSecond`. `take(key)`
 * throws a 429 {@link ServerError} with `Retry-After` when the key's bucket is empty. The clock
 * is injectable so tests assert the arithmetic, not wall time. Idle buckets are forgotten, so
 * memory stays bounded by the keys active in the last `burst / ratePerSecond` seconds.
 *
 * @example
 * ```ts
 * import { RateLimiter } from "./limits.ts";
 * let now = 0;
 * const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2, now: () => now });
 * limiter.take("k"); limiter.take("k");
 * // limiter.take("k") would throw: rate-limited
 * now += 1000;
 * limiter.take("k"); // refilled one
 * ```
 */
export class RateLimiter {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(options: { ratePerSecond: number; burst: number; now?: () => number }) {
    this.#ratePerMs = options.ratePerSecond / 1000;
    this.#burst = options.burst;
    this.#now = options.now ?? Date.now;
  }

  /** Spends one request of `key`'s bucket, or throws `rate-limited`. */
  take(key: string): void {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, atMs: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.atMs) * this.#ratePerMs);
    bucket.atMs = now;
    if (bucket.tokens < 1) {
      this.#buckets.set(key, bucket);
      const waitSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / this.#ratePerMs / 1000));
      throw new ServerError(
        "rate-limited",
        `This publisher key is publishing faster than ${this.#ratePerMs * 1000}/s ` +
          `(burst ${this.#burst}; HERALD_PUBLISH_RATE_PER_SECOND, HERALD_PUBLISH_BURST). ` +
          `Retry after ${waitSeconds} s, or batch events into one publish.`,
        { headers: { "retry-after": String(waitSeconds) } },
      );
    }
    bucket.tokens -= 1;
    this.#buckets.set(key, bucket);
    this.#forgetIdle(now);
  }

  #forgetIdle(now: number): void {
    if (this.#buckets.size < 1024) return;
    const fullAfterMs = this.#burst / this.#ratePerMs;
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.atMs > fullAfterMs) this.#buckets.delete(key);
    }
  }
}
