/**
 * Bun specifics (`@herald/sse/bun`): `bunSSE` answers like `sseResponse` and turns Bun.serve's
 * 10 s idle timeout off for the stream's request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bunSSE, type BunServerLike } from "@herald/sse/bun";
 * const server: BunServerLike = { timeout: () => {} }; // Bun.serve's server in a real handler
 * const response = bunSSE(server, new Request("http://localhost/"), [{ data: "hi" }]);
 * assert.equal(await response.text(), ":\n\ndata: hi\n\n");
 * ```
 * @module
 */
export { type BunServerLike, bunSSE } from "./src/server/bun.ts";
