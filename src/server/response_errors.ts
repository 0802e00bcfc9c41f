import { HeraldError } from "../errors.ts";

/**
 * Why `sseResponse` refused to start (a programming error, thrown at once, before any response):
 * - `invalid-option`: a limit or policy in the options is out of range; the message names it.
 * - `invalid-source`: the source is not a ReadableStream, an (async) iterable or a function.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseResponse, SSEResponseError, type SSEResponseErrorCode } from "@herald/sse";
 * const codes: SSEResponseErrorCode[] = [];
 * try {
 *   sseResponse(42 as never);
 * } catch (error) {
 *   if (error instanceof SSEResponseError) codes.push(error.code);
 * }
 * assert.deepEqual(codes, ["invalid-source"]);
 * ```
 */
export type SSEResponseErrorCode = "invalid-option" | "invalid-source";

/**
 * Thrown by `sseResponse` for options or a source it can't use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseResponse, SSEResponseError } from "@herald/sse";
 * assert.throws(
 *   () => sseResponse([], { maxQueuedEvents: 0 }),
 *   (error) => error instanceof SSEResponseError && error.code === "invalid-option",
 * );
 * ```
 */
export class SSEResponseError extends HeraldError {
  declare readonly code: SSEResponseErrorCode;

  constructor(code: SSEResponseErrorCode, message: string) {
    super(code, message);
  }
}
