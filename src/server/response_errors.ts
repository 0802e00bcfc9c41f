import { HeraldError } from "../errors.ts";

/**
 * Why `sseResponse` refused to start (a programming error, thrown at once, before any response):
 * - `invalid-option`: a limit or policy in the options is out of range; the message names it.
 * - `invalid-source`: the source is not a ReadableStream, an (async) iterable or a function.
 *
 * @example
 * ```ts
 * import type { SSEResponseErrorCode } from "@herald/sse";
 * const code: SSEResponseErrorCode = "invalid-option";
 * ```
 */
export type SSEResponseErrorCode = "invalid-option" | "invalid-source";

/**
 * Thrown by `sseResponse` for options or a source it can't use.
 *
 * @example
 * ```ts
 * import { sseResponse, SSEResponseError } from "@herald/sse";
 * try {
 *   sseResponse([], { maxQueuedEvents: 0 });
 * } catch (error) {
 *   if (error instanceof SSEResponseError) console.log(error.code); // "invalid-option"
 * }
 * ```
 */
export class SSEResponseError extends HeraldError {
  declare readonly code: SSEResponseErrorCode;

  constructor(code: SSEResponseErrorCode, message: string) {
    super(code, message);
  }
}
