import { serverIdleTimeoutMs } from "../capabilities.ts";
import { ResponseConnection } from "./connection.ts";
import { headersFor } from "./headers.ts";
import { DEFAULT_KEEP_ALIVE_MS, resolveOptions, type SSEResponseOptions } from "./options.ts";
import { checkSource, startSource } from "./source.ts";
import type { SSEEventMap, SSEEventOf, SSESource } from "./writer.ts";

/**
 * The default `keepAliveMs` here: {@link DEFAULT_KEEP_ALIVE_MS}, or four fifths of the server's
 * idle timeout where the runtime has one (Bun: 8 s under its 10 s), so a quiet stream outlives it
 * even when the handler didn't turn the timeout off.
 */
const defaultKeepAliveMs = serverIdleTimeoutMs === undefined
  ? DEFAULT_KEEP_ALIVE_MS
  : Math.min(DEFAULT_KEEP_ALIVE_MS, Math.floor(serverIdleTimeoutMs * 0.8));

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

/**
 * A connection as `sseResponse` makes it, for a producer inside the library that drives the
 * connection itself (the hub): the same defaults and checks, with the `close` queue policy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectionResponse, openConnection } from "./response.ts";
 * const connection = openConnection({}, undefined);
 * assert.equal(connection.push({ data: "hi" }), true);
 * connection.close("producer-done");
 * const response = connectionResponse(connection, {});
 * assert.equal(await response.text(), ":\n\ndata: hi\n\n");
 * ```
 */
export function openConnection(
  options: Omit<SSEResponseOptions, "request" | "queuePolicy">,
  request: Request | undefined,
): ResponseConnection {
  // A subscriber resumes from its cursor, so a client that falls behind is closed, never skipped.
  const policy = (options as SSEResponseOptions).queuePolicy;
  const closing = policy === undefined || policy === "close"
    ? options
    : { ...options, queuePolicy: "close" as const };
  return new ResponseConnection(options, resolveOptions(closing, defaultKeepAliveMs), request);
}

/**
 * The `Response` for a connection: its body, the status, and the event-stream headers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectionResponse, openConnection } from "./response.ts";
 * const connection = openConnection({}, undefined);
 * connection.close("producer-done");
 * const response = connectionResponse(connection, { status: 200 });
 * assert.equal(response.headers.get("cache-control"), "no-cache, no-transform");
 * ```
 */
export function connectionResponse(
  connection: ResponseConnection,
  options: Pick<SSEResponseOptions, "status" | "statusText" | "headers">,
): Response {
  return new Response(connection.body, {
    status: options.status ?? 200,
    statusText: options.statusText,
    headers: headersFor(options.headers),
  });
}
