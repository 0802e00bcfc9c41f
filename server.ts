/**
 * Event-stream responses (`@herald/sse/server`): `sseResponse` and everything it takes and
 * reports: its options and their defaults, the writer a function source gets, close reasons, the
 * isolate's counters (`sseStats`) and the headers it sends (`sseHeaders`). Runs on any runtime
 * that answers a `Request` with a `Response`; on Bun, `@herald/sse/bun` adds `bunSSE`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_KEEP_ALIVE_MS, sseResponse, sseStats } from "@herald/sse/server";
 * const response = sseResponse([{ id: "1", data: "hello" }], { keepAliveMs: 5_000 });
 * assert.equal(await response.text(), ":\n\nid: 1\ndata: hello\n\n");
 * assert.equal(sseStats().open, 0); // the stream ended: nothing is held
 * assert.equal(DEFAULT_KEEP_ALIVE_MS, 15_000);
 * ```
 * @module
 */
export { sseResponse } from "./src/server/response.ts";
export {
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_QUEUED_EVENTS,
  DEFAULT_SLOW_CLIENT_TIMEOUT_MS,
  type SSELogger,
  type SSEResponseOptions,
} from "./src/server/options.ts";
export { SSEResponseError, type SSEResponseErrorCode } from "./src/server/response_errors.ts";
export { SSECloseError, type SSECloseReason } from "./src/server/close_reason.ts";
export type { SSEEventMap, SSEEventOf, SSESource, SSEWriter } from "./src/server/writer.ts";
export type { SSEQueuePolicy } from "./src/server/queue.ts";
export type { SSEClock } from "./src/server/clock.ts";
export { type SSEStats, sseStats } from "./src/server/stats.ts";
export { headersFor as sseHeaders } from "./src/server/headers.ts";
