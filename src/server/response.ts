import { SSEConnection } from "./connection.ts";
import { headersFor } from "./headers.ts";
import { DEFAULT_KEEP_ALIVE_MS, resolveOptions, type SSEResponseOptions } from "./options.ts";
import { BUN_KEEP_ALIVE_MS, onBun } from "./runtime_bun.ts";
import { checkSource, startSource } from "./source.ts";
import type { SSEEventMap, SSEEventOf, SSESource } from "./writer.ts";

/**
 * An SSE endpoint's `Response`: streams `source` to one client, with Herald's event-stream
 * headers, the first bytes (`retry:` if given, and a comment) at once, a keep-alive comment every
 * `keepAliveMs` when nothing else was written, a bounded queue for slow clients, and one close
 * signal (see {@link SSECloseReason}) that clears every timer and cancels the source.
 *
 * `source` is a `ReadableStream` or (async) iterable of events, or a function that gets a
 * {@link SSEWriter}. Pass `options.request` so a client that leaves is noticed at once (on Deno
 * and Bun; on Workers at the next write, so within `keepAliveMs`).
 *
 * @example
 * ```ts
 * import { sseResponse } from "@herald/sse";
 * type Events = { notification: { text: string }; presence: { online: number } };
 * function handler(request: Request): Response {
 *   return sseResponse<Events>(async (stream) => {
 *     await stream.send({ event: "presence", data: { online: 1 } });
 *     await stream.send({ event: "notification", id: "1", data: { text: "hello" } });
 *     await new Promise((resolve) => stream.signal.addEventListener("abort", resolve));
 *   }, { request, retryMs: 2000, keepAliveMs: 15_000 });
 * }
 * const response = handler(new Request("http://localhost/events"));
 * console.log(response.headers.get("content-type")); // "text/event-stream; charset=utf-8"
 * await response.body?.cancel();
 * ```
 */
export function sseResponse<Events extends SSEEventMap = SSEEventMap>(
  source: SSESource<SSEEventOf<NoInfer<Events>>>,
  options: SSEResponseOptions = {},
): Response {
  // Bun's default idleTimeout (10 s) would kill a stream that is quiet for 15 s; see runtime_bun.
  const limits = resolveOptions(options, onBun ? BUN_KEEP_ALIVE_MS : DEFAULT_KEEP_ALIVE_MS);
  checkSource(source); // before anything is opened: a refused source leaves nothing behind
  const connection = new SSEConnection(options, limits);
  startSource(connection, source, options.request);
  return new Response(connection.body, {
    status: options.status ?? 200,
    statusText: options.statusText,
    headers: headersFor(options.headers),
  });
}
