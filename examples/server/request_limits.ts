import type { ServerConfig } from "./config.ts";
import { AuthFailureThrottle, ConnectionLimiter, RateLimiter, subscribeRate } from "./limits.ts";

/** Every per-isolate limit of the server, made from its settings (docs/security.md). */
export interface RequestLimits {
  /** Open streams per token and per address. */
  connections: ConnectionLimiter;
  /** Publish requests per publisher key. */
  publishes: RateLimiter;
  /** Subscribe requests per client address, counted before the token is even read. */
  subscribesPerAddress: RateLimiter;
  /** Subscribe requests per token, counted once the token is verified. */
  subscribesPerToken: RateLimiter;
  /** Failed authentications per client address. */
  authFailures: AuthFailureThrottle;
}

/**
 * The limits a server's settings ask for, all on one clock.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./config.ts";
 * import { requestLimits } from "./request_limits.ts";
 * const limits = requestLimits(loadConfig({ HERALD_DEV_MODE: "true" }), () => 0);
 * for (let i = 0; i < 10; i++) limits.subscribesPerToken.take("a-token");
 * assert.throws(() => limits.subscribesPerToken.take("a-token"), { code: "too-many-subscribes" });
 * ```
 */
export function requestLimits(config: ServerConfig, now: () => number): RequestLimits {
  return {
    connections: new ConnectionLimiter({
      perToken: config.maxConnectionsPerToken,
      perAddress: config.maxConnectionsPerAddress,
    }),
    publishes: new RateLimiter({
      ratePerSecond: config.publishRatePerSecond,
      burst: config.publishBurst,
      now,
    }),
    subscribesPerAddress: subscribeRate("address", {
      ratePerSecond: config.addressSubscribeRatePerSecond,
      burst: config.addressSubscribeBurst,
      now,
    }),
    subscribesPerToken: subscribeRate("token", {
      ratePerSecond: config.subscribeRatePerSecond,
      burst: config.subscribeBurst,
      now,
    }),
    authFailures: new AuthFailureThrottle({
      ratePerSecond: config.authFailureRatePerSecond,
      burst: config.authFailureBurst,
      now,
    }),
  };
}
