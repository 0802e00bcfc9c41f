/**
 * Herald responses for Hono (`@herald/sse/hono`): `sse(c, source, options)` answers a Hono route
 * with `sseResponse`, wired to the context's request and headers. `hono` is a peer dependency.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { sse } from "@herald/sse/hono";
 * const app = new Hono().get("/events", (c) => sse(c, [{ id: "1", data: "hi" }]));
 * const response = await app.request("/events");
 * assert.equal(await response.text(), ":\n\nid: 1\ndata: hi\n\n");
 * ```
 * @module
 */
export { sse } from "./src/adapters/hono.ts";
