/**
 * Herald responses for Hono: `sse(c, source, options)` answers a Hono route with
 * {@link sseResponse}, wired to the context's request (its signal closes the stream when the
 * client leaves; its `Last-Event-ID` reaches a function source) and keeping the headers set on
 * the context with `c.header()`. Works wherever Hono does: Deno, Bun, Workers, Vercel Edge.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { sse } from "@herald/sse/hono";
 * const app = new Hono();
 * app.get("/events", (c) =>
 *   sse(c, async (stream) => {
 *     await stream.send({ event: "greeting", id: "1", data: { hello: "world" } });
 *   }));
 * const response = await app.request("/events");
 * assert.equal(await response.text(), ':\n\nevent: greeting\nid: 1\ndata: {"hello":"world"}\n\n');
 * ```
 * @module
 */
import type { Context } from "hono";
import type { SSEResponseOptions } from "../server/options.ts";
import { sseResponse } from "../server/response.ts";
import type { SSEEventMap, SSEEventOf, SSESource } from "../server/writer.ts";

/**
 * Answers a Hono route with an SSE stream: {@link sseResponse} with `request` set to `c.req.raw`,
 * and the headers set on the context (`c.header(...)`) merged in, Herald's event-stream headers
 * winning only where the context has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { sse } from "@herald/sse/hono";
 * type Events = { tick: { n: number } };
 * const app = new Hono().get("/ticks", (c) => {
 *   c.header("access-control-allow-origin", "*");
 *   return sse<Events>(c, [1, 2].map((n) => ({ event: "tick", id: String(n), data: { n } })));
 * });
 * const response = await app.request("/ticks");
 * assert.equal(response.headers.get("access-control-allow-origin"), "*");
 * assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
 * assert.equal(
 *   await response.text(),
 *   ':\n\nevent: tick\nid: 1\ndata: {"n":1}\n\nevent: tick\nid: 2\ndata: {"n":2}\n\n',
 * );
 * ```
 */
export function sse<Events extends SSEEventMap = SSEEventMap>(
  c: Context,
  source: SSESource<SSEEventOf<NoInfer<Events>>>,
  options: Omit<SSEResponseOptions, "request"> = {},
): Response {
  const headers = new Headers(c.res?.headers);
  new Headers(options.headers).forEach((value, name) => {
    if (name === "set-cookie") headers.append(name, value);
    else headers.set(name, value);
  });
  return sseResponse<Events>(source, { ...options, headers, request: c.req.raw });
}
