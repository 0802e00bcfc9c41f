// Bun specifics, in one place. Bun.serve closes a connection that is idle for `idleTimeout`
// seconds (default 10), and an SSE stream with nothing to say is idle. Two remedies, both here:
// turn the timeout off for the SSE request (`server.timeout(request, 0)`, see `bunSSE`), and, as
// a fallback when the server is not at hand, keep-alive comments more often than every 10 s.
// And: Bun.serve fires the body's cancel() the moment a client disconnects, so the response does
// not read `request.signal` on Bun (Bun creates that AbortSignal lazily, on first access: about
// 1 KB per idle connection saved; see request_signal.ts).
import type { SSEResponseOptions } from "./options.ts";
import { sseResponse } from "./response.ts";
import type { SSEEventMap, SSEEventOf, SSESource } from "./writer.ts";

/** Whether this code runs on Bun. */
export const onBun: boolean = typeof (globalThis as { Bun?: unknown }).Bun === "object";

/**
 * The default `keepAliveMs` on Bun: below Bun's default 10 s `idleTimeout`, so a quiet stream
 * outlives it even when `server.timeout(request, 0)` was not called.
 */
export const BUN_KEEP_ALIVE_MS = 8_000;

/** The part of Bun's `Server` that `bunSSE` uses. */
export interface BunServerLike {
  timeout(request: Request, seconds: number): void;
}

/**
 * `sseResponse` for `Bun.serve`: turns Bun's idle timeout off for this request (so a stream may
 * stay quiet for as long as it likes), then answers as {@link sseResponse} does.
 *
 * @example
 * ```ts
 * import { bunSSE, type BunServerLike } from "@herald/sse";
 * // Bun.serve({ fetch }) hands `fetch` the request and the server.
 * export function fetch(request: Request, server: BunServerLike): Response {
 *   return bunSSE(server, request, async (stream) => {
 *     await stream.send({ data: "hello" });
 *   });
 * }
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
