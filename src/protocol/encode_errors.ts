import { HeraldError } from "../errors.ts";

/**
 * Why an event was refused by the encoder.
 * - `invalid-event-object`: the event is not an object (`null`, a string, ...), or reading one of
 *   its fields threw (a throwing getter, a revoked or hostile Proxy).
 * - `invalid-event`: the event name is not a string or contains CR or LF (field injection).
 * - `invalid-id`: the id is not a string or contains CR, LF or NUL.
 * - `invalid-retry`: retry is not a non-negative safe integer.
 * - `invalid-comment`: the comment is not a string.
 * - `unserializable-data`: the data could not be turned into JSON (cycles, BigInts, a throwing
 *   `toJSON` or getter, nesting deeper than the runtime's stack, or no JSON form at all).
 * - `event-too-large`: the encoded event would be longer than the runtime's longest string.
 */
export type SSEEncodeErrorCode =
  | "invalid-event-object"
  | "invalid-event"
  | "invalid-id"
  | "invalid-retry"
  | "invalid-comment"
  | "unserializable-data"
  | "event-too-large";

/**
 * Thrown when an event cannot be written safely. Nothing is written for the refused event.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeEvent, SSEEncodeError } from "@herald/sse";
 * assert.throws(
 *   () => encodeEvent({ id: "a\nb" }),
 *   (error) => error instanceof SSEEncodeError && error.code === "invalid-id",
 * );
 * ```
 */
export class SSEEncodeError extends HeraldError {
  declare readonly code: SSEEncodeErrorCode;

  constructor(code: SSEEncodeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
