import { HeraldError } from "../errors.ts";

/**
 * Why an event was refused by the encoder.
 * - `invalid-event`: the event name is not a string or contains CR or LF (field injection).
 * - `invalid-id`: the id is not a string or contains CR, LF or NUL.
 * - `invalid-retry`: retry is not a non-negative safe integer.
 * - `invalid-comment`: the comment is not a string.
 * - `unserializable-data`: the data could not be turned into JSON.
 */
export type SSEEncodeErrorCode =
  | "invalid-event"
  | "invalid-id"
  | "invalid-retry"
  | "invalid-comment"
  | "unserializable-data";

/**
 * Thrown when an event cannot be written safely. Nothing is written for the refused event.
 *
 * @example
 * ```ts
 * import { encodeEvent, SSEEncodeError } from "@herald/sse";
 * try {
 *   encodeEvent({ id: "a\nb" });
 * } catch (error) {
 *   if (error instanceof SSEEncodeError) console.log(error.code); // "invalid-id"
 * }
 * ```
 */
export class SSEEncodeError extends HeraldError {
  declare readonly code: SSEEncodeErrorCode;

  constructor(code: SSEEncodeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
