/**
 * `sseResponse` for `Bun.serve` (`@herald/sse/bun`). Bun.serve closes a connection that is idle
 * for `idleTimeout` seconds (default 10), and an SSE stream with nothing to say is idle. Two
 * remedies: `bunSSE` turns the timeout off for the SSE request (`server.timeout(request, 0)`),
 * and, for a handler that calls `sseResponse` without the server at hand, the default keep-alive
 * on Bun is 8 s, under the timeout (see `serverIdleTimeoutMs` in capabilities.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bunSSE, type BunServerLike } from "@herald/sse/bun";
 * // Bun.serve({ fetch }) hands `fetch` the request and the server.
 * const timeouts: number[] = [];
 * const server: BunServerLike = { timeout: (_request, seconds) => timeouts.push(seconds) };
 * const response = bunSSE(server, new Request("http://localhost/"), [{ data: "hello" }]);
 * assert.deepEqual(timeouts, [0]);
 * assert.equal(await response.text(), ":\n\ndata: hello\n\n");
 * ```
 * @module
 */
import type { SSEResponseOptions } from "./options.ts";
import { sseResponse } from "./response.ts";
import type { SSEEventMap, SSEEventOf, SSESource } from "./writer.ts";

/**
 * The part of Bun's `Server` that `bunSSE` uses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { BunServerLike } from "@herald/sse/bun";
 * const server: BunServerLike = { timeout: () => {} };
 * assert.equal(typeof server.timeout, "function");
 * ```
 */
export interface BunServerLike {
  /** Sets the request's idle timeout in seconds; 0 turns it off. */
  timeout(request: Request, seconds: number): void;
}

/**
 * `sseResponse` for `Bun.serve`: turns Bun's idle timeout off for this request (so a stream may
 * stay quiet for as long as it likes), then answers as {@link sseResponse} does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bunSSE, type BunServerLike } from "@herald/sse/bun";
 * // In a Bun.serve({ fetch }) handler, which gets the request and the server:
 * function fetch(request: Request, server: BunServerLike): Response {
 *   return bunSSE(server, request, async (stream) => {
 *     await stream.send({ data: "hello" });
 *   });
 * }
 * const response = fetch(new Request("http://localhost/"), { timeout: () => {} });
 * assert.equal(await response.text(), ":\n\ndata: hello\n\n");
 * ```
 */
export function bunSSE<Events extends SSEEventMap = SSEEventMap>(
  server: BunServerLike,
  request: Request,
  source: SSESource<SSEEventOf<NoInfer<Events>>>,
  options: Omit<SSEResponseOptions, "request"> = {},
): Response {
  server.timeout(request, 0);
  return sseResponse<Events>(source, { ...options, request });
}
