import { ResponseConnection } from "./connection.ts";
import { connectionResponse, defaultKeepAliveMs } from "./open_connection.ts";
import { resolveOptions, type SSEResponseOptions } from "./options.ts";
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
 * import assert from "node:assert/strict";
 * import { sseResponse } from "@herald/sse";
 * type Events = { notification: { text: string }; presence: { online: number } };
 * function handler(request: Request): Response {
 *   return sseResponse<Events>(async (stream) => {
 *     await stream.send({ event: "presence", data: { online: 1 } });
 *     await stream.send({ event: "notification", id: "1", data: { text: "hello" } });
 *   }, { request, retryMs: 2000 });
 * }
 * const response = handler(new Request("http://localhost/events"));
 * assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
 * assert.equal(
 *   await response.text(),
 *   'retry: 2000\n:\n\nevent: presence\ndata: {"online":1}\n\n' +
 *     'event: notification\nid: 1\ndata: {"text":"hello"}\n\n',
 * );
 * ```
 */
export function sseResponse<Events extends SSEEventMap = SSEEventMap>(
  source: SSESource<SSEEventOf<NoInfer<Events>>>,
  options: SSEResponseOptions = {},
): Response {
  const limits = resolveOptions(options, defaultKeepAliveMs);
  checkSource(source); // before anything is opened: a refused source leaves nothing behind
  const connection = new ResponseConnection(options, limits, options.request);
  startSource(connection, source, options.request);
  return connectionResponse(connection, options);
}
