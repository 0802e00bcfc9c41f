/**
 * What the runtime this code runs on can do, decided once, here. Code that behaves differently on
 * one runtime reads one of these flags; no other file tests for a runtime. Each flag says what it
 * allows, and where the runtime can't be asked about a behaviour directly (a disconnect is not a
 * feature one can probe) the runtime's own global is the evidence.
 *
 * | flag                      | Deno  | Bun   | Workers | Vercel Edge, others |
 * | ------------------------- | ----- | ----- | ------- | ------------------- |
 * | `cancelSignalsDisconnect` | true  | true  | false   | false               |
 * | `timersCrossRequests`     | true  | true  | false   | false               |
 * | `requestScopedIO`         | false | false | true    | false               |
 * | `serverIdleTimeoutMs`     | –     | 10000 | –       | –                   |
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestScopedIO, timersCrossRequests } from "./capabilities.ts";
 * // No runtime both shares timers among requests and scopes I/O to one request.
 * assert.ok(!(requestScopedIO && timersCrossRequests));
 * ```
 * @module
 */

interface RuntimeGlobals {
  Deno?: { serve?: unknown };
  Bun?: { serve?: unknown };
}

const runtime = globalThis as RuntimeGlobals;

// The servers whose behaviour the flags below describe: `Deno.serve` and `Bun.serve`.
const denoServe = typeof runtime.Deno === "object" && typeof runtime.Deno?.serve === "function";
const bunServe = typeof runtime.Bun === "object" && typeof runtime.Bun?.serve === "function";

/**
 * Whether the response body's `cancel()` fires the moment a client disconnects, together with
 * `request.signal`, so a response need not read the signal at all. True on Deno and Bun, where
 * reading it also costs: Deno 2.9 aborts `request.signal` after every *successful* response too
 * (its "legacy behavior") and prints a warning once a handler reads the property; Bun makes the
 * signal lazily on first access, about 1 KB per idle connection. Elsewhere (Workers with the
 * `enable_request_signal` flag, Vercel Edge) the request's signal is what says the client left.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cancelSignalsDisconnect } from "./capabilities.ts";
 * assert.equal(typeof cancelSignalsDisconnect, "boolean");
 * ```
 */
export const cancelSignalsDisconnect: boolean = denoServe || bunServe;

/**
 * Whether a timer (or any I/O object) created while answering one request may serve another, so
 * many responses can share one interval. True where the process owns its timers (Deno, Bun); false
 * on Workers, where timers and I/O belong to the request that made them, and on any runtime not
 * known to allow it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timersCrossRequests } from "./capabilities.ts";
 * assert.equal(typeof timersCrossRequests, "boolean");
 * ```
 */
export const timersCrossRequests: boolean = denoServe || bunServe;

/**
 * Whether I/O objects (streams, upstream fetches, timers) belong to the request that created them
 * (Cloudflare Workers): enqueueing into another request's stream isn't flushed until that request
 * does I/O of its own, and an upstream connection dies with the request that opened it. So on such
 * a runtime every response owns its timers and every subscriber its own upstream feed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestScopedIO } from "./capabilities.ts";
 * assert.equal(typeof requestScopedIO, "boolean");
 * ```
 */
export const requestScopedIO: boolean = typeof navigator !== "undefined" &&
  // Workers have no feature that says "I/O is request-scoped"; their user agent is the evidence.
  navigator.userAgent === "Cloudflare-Workers";

/**
 * How long the runtime's server lets a response stay quiet before it closes the connection, when
 * the application doesn't change it, in ms; `undefined` where there is no such default. Bun.serve's
 * `idleTimeout` is 10 s, and an event stream with nothing to say is idle: keep-alive comments must
 * come more often than that (or the handler turns the timeout off with `server.timeout(request,
 * 0)`, as `bunSSE` does).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serverIdleTimeoutMs } from "./capabilities.ts";
 * assert.ok(serverIdleTimeoutMs === undefined || serverIdleTimeoutMs > 0);
 * ```
 */
export const serverIdleTimeoutMs: number | undefined = bunServe ? 10_000 : undefined;
