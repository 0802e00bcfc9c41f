/**
 * The root of every error Herald throws. Each subclass carries a `code` a caller can switch on,
 * and a message that says what to do about it.
 *
 * @example
 * ```ts
 * import { encodeEvent, HeraldError } from "@herald/sse";
 * try {
 *   encodeEvent({ event: "bad\nname", data: "x" });
 * } catch (error) {
 *   if (error instanceof HeraldError) console.log(error.code); // "invalid-event"
 * }
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
