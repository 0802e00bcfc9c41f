import { HeraldError } from "../errors.ts";

/**
 * Why a parser stopped:
 * - `line-too-long`: a single line grew past `maxEventBytes` (plus 8 bytes for its field name).
 * - `event-too-large`: the data of one event grew past `maxEventBytes` before its blank line.
 */
export type SSEParseErrorCode = "line-too-long" | "event-too-large";

/**
 * Thrown (or used to error a {@link SSEParserStream}) when input would make the parser's memory
 * grow past its bound. The parser keeps nothing of the offending event, and stays failed (every
 * later `feed()` throws this error again) until `reset()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createParser, SSEParseError } from "@herald/sse";
 * const parser = createParser({ onEvent() {}, maxEventBytes: 8 });
 * assert.throws(
 *   () => parser.feed("data: far too long for eight bytes"),
 *   (error) => error instanceof SSEParseError && error.code === "line-too-long",
 * );
 * ```
 */
export class SSEParseError extends HeraldError {
  declare readonly code: SSEParseErrorCode;
  /** The configured limit that was exceeded, in bytes. */
  readonly limitBytes: number;

  constructor(code: SSEParseErrorCode, limitBytes: number) {
    super(
      code,
      code === "line-too-long"
        ? `A line past maxEventBytes (${limitBytes} bytes + 8 for its field name) arrived: ` +
          "raise maxEventBytes if the server sends lines this long."
        : `An event's data grew past maxEventBytes (${limitBytes} bytes): raise maxEventBytes ` +
          "if the server sends events this large.",
    );
    this.limitBytes = limitBytes;
  }
}
