/**
 * The root of every error Herald throws. Each subclass carries a `code` a caller can switch on,
 * and a message that says what to do about it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeEvent, HeraldError } from "@herald/sse";
 * assert.throws(
 *   () => encodeEvent({ event: "bad\nname", data: "x" }),
 *   (error) => error instanceof HeraldError && error.code === "invalid-event",
 * );
 * ```
 */
export class HeraldError extends Error {
  /** A stable, documented discriminator: decide by `code`, never by parsing `message`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
