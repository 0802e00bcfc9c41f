import { SSEParseError } from "./parse_errors.ts";
import type { SSEMessage } from "./types.ts";
import { fitsUtf8 } from "./utf8_length.ts";

/** 1 MiB: larger than any sane event, small enough that a hostile stream can't exhaust memory. */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

const LF = 10;
const COLON = 58;
const SPACE = 32;
const BOM = 0xfeff;
// A line may hold maxEventBytes of value plus its field name: "event: " is the longest field
// prefix that matters, so 8 bytes keeps a maximal `data: ` line legal.
const FIELD_PREFIX_BYTES = 8;

/**
 * Options of {@link createParser}.
 *
 * @example
 * ```ts
 * import { createParser, type ParserOptions } from "@herald/sse";
 * const options: ParserOptions = { onEvent: (m) => console.log(m.data), maxEventBytes: 65536 };
 * createParser(options).feed("data: ok\n\n"); // logs "ok"
 * ```
 */
export interface ParserOptions {
  /** Called once per dispatched event, as soon as its blank line arrives. */
  onEvent: (message: SSEMessage) => void;
  /** Called with the reconnection time of each valid `retry:` field, in milliseconds. */
  onRetry?: (ms: number) => void;
  /** Called with the text of each comment line, without the colon and one leading space. */
  onComment?: (text: string) => void;
  /**
   * The most UTF-8 bytes one event's data may take, and one line's value (default 1 MiB). A line
   * may be 8 bytes longer, for its field name.
   */
  maxEventBytes?: number;
  /** The last event ID to start from, e.g. the one a reconnecting client already holds. */
  lastEventId?: string;
}

/**
 * A push parser: the SSE parsing and dispatch machine without streams.
 *
 * @example
 * ```ts
 * import { createParser } from "@herald/sse";
 * const parser = createParser({ onEvent: (m) => console.log(m.event, m.data) });
 * parser.feed("event: greet\ndata: hel");
 * parser.feed(new TextEncoder().encode("lo\n\n")); // logs "greet hello"
 * ```
 */
export interface SSEParser {
  /** Parses a chunk: text, or UTF-8 bytes (which may split a character anywhere). */
  feed(chunk: string | Uint8Array): void;
  /**
   * Discards the partial line, the pending event and decoder state, as at the end of a stream.
   * The last event ID is kept (browsers carry it across reconnections) unless one is given.
   */
  reset(options?: { lastEventId?: string }): void;
  /** The last event ID as of the last dispatched block: what a reconnect sends. */
  readonly lastEventId: string;
}

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/**
 * Creates a parser that follows the WHATWG "Server-sent events" parsing and dispatch rules under
 * any chunking: CR, LF and CRLF endings (a CRLF may be split across chunks, with empty chunks
 * between), one leading BOM stripped, multi-byte characters split across byte chunks, invalid
 * UTF-8 as U+FFFD. Input that would grow a line or an event past `maxEventBytes` throws
 * {@link SSEParseError}; the offending event is dropped and the parser can be fed again.
 *
 * @example
 * ```ts
 * import { createParser } from "@herald/sse";
 * const parser = createParser({
 *   onEvent: (m) => console.log(m.id, m.data),
 *   onRetry: (ms) => console.log("retry", ms),
 * });
 * parser.feed("retry: 3000\nid: 42\ndata: first\ndata: second\n\n");
 * // logs "retry 3000", then "42 first\nsecond"
 * ```
 */
export function createParser(options: ParserOptions): SSEParser {
  const { onEvent, onRetry, onComment } = options;
  const maxBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new RangeError(`maxEventBytes must be a positive integer, got ${maxBytes}.`);
  }

  let decoder: TextDecoder | undefined;
  let started = false; // whether the first character (and so the one BOM) has been seen
  let skipLF = false; // the last chunk ended in CR: a LF opening the next one is its other half
  let pending = ""; // a line still waiting for its ending; never holds CR or LF
  let data = "";
  let hasData = false;
  let eventType = "";
  let blockId: string | undefined;
  let idBuffer = options.lastEventId ?? "";
  let lastEventId = idBuffer;
  const maxLineBytes = maxBytes + FIELD_PREFIX_BYTES;

  function dropEvent(): void {
    data = "";
    hasData = false;
    eventType = "";
    blockId = undefined;
  }

  function fail(code: "line-too-long" | "event-too-large"): never {
    pending = "";
    dropEvent();
    throw new SSEParseError(code, maxBytes);
  }

  function dispatch(): void {
    lastEventId = idBuffer;
    if (!hasData) {
      dropEvent();
      return;
    }
    const message: SSEMessage = {
      event: eventType === "" ? "message" : eventType,
      data,
      id: blockId,
      lastEventId,
    };
    dropEvent();
    onEvent(message);
  }

  function field(name: string, value: string): void {
    switch (name) {
      case "event":
        eventType = value;
        break;
      case "id":
        // The spec ignores an id containing NUL: the buffer is left as it was.
        if (value.indexOf("\0") === -1) idBuffer = blockId = value;
        break;
      case "retry":
        if (onRetry && isDigits(value)) onRetry(parseInt(value, 10));
        break;
      case "data":
        appendData(value);
        break;
    }
  }

  function appendData(value: string): void {
    if (hasData) data += "\n" + value;
    else {
      data = value;
      hasData = true;
    }
    if (!fitsUtf8(data, maxBytes)) fail("event-too-large");
  }

  function line(text: string, start: number, end: number): void {
    if (start === end) return dispatch();
    if ((end - start) * 3 > maxLineBytes && !fitsUtf8(text.slice(start, end), maxLineBytes)) {
      fail("line-too-long");
    }
    const first = text.charCodeAt(start);
    // Hot path: most lines of most streams are data lines.
    if (first === 100 /* d */ && text.startsWith("data:", start)) {
      const from = start + 5 < end && text.charCodeAt(start + 5) === SPACE ? start + 6 : start + 5;
      return appendData(text.slice(from, end));
    }
    if (first === COLON) {
      if (onComment) {
        const from = start + 1 < end && text.charCodeAt(start + 1) === SPACE
          ? start + 2
          : start + 1;
        onComment(text.slice(from, end));
      }
      return;
    }
    let colon = start;
    while (colon < end && text.charCodeAt(colon) !== COLON) colon++;
    if (colon === end) return field(text.slice(start, end), "");
    const from = colon + 1 < end && text.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1;
    field(text.slice(start, colon), text.slice(from, end));
  }

  function feedText(chunk: string): void {
    let text = chunk;
    if (text.length === 0) return;
    if (!started) {
      started = true;
      if (text.charCodeAt(0) === BOM) text = text.slice(1);
    }
    if (text.length === 0) return;
    if (skipLF) {
      skipLF = false;
      if (text.charCodeAt(0) === LF) text = text.slice(1);
    }
    // Where to start looking for line endings: the pending part is known to hold none, so a long
    // line arriving in many small chunks is scanned once, not once per chunk.
    let searchFrom = 0;
    if (pending !== "") {
      if (text.indexOf("\n") === -1 && text.indexOf("\r") === -1) {
        pending += text;
        if (!fitsUtf8(pending, maxLineBytes)) fail("line-too-long");
        return;
      }
      searchFrom = pending.length;
      text = pending + text;
      pending = "";
    }
    const length = text.length;
    let lf = text.indexOf("\n", searchFrom);
    let cr = text.indexOf("\r", searchFrom);
    let lineStart = 0;
    while (lf !== -1 || cr !== -1) {
      let end: number;
      let next: number;
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        end = lf;
        next = lf + 1;
      } else {
        end = cr;
        if (cr + 1 === length) {
          skipLF = true;
          next = length;
        } else next = text.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
      }
      line(text, lineStart, end);
      lineStart = next;
      if (lf !== -1 && lf < next) lf = text.indexOf("\n", next);
      if (cr !== -1 && cr < next) cr = text.indexOf("\r", next);
    }
    if (lineStart < length) {
      pending = lineStart === 0 ? text : text.slice(lineStart);
      if (!fitsUtf8(pending, maxLineBytes)) fail("line-too-long");
    }
  }

  return {
    feed(chunk) {
      if (typeof chunk === "string") return feedText(chunk);
      decoder ??= new TextDecoder("utf-8", { ignoreBOM: true });
      feedText(decoder.decode(chunk, { stream: true }));
    },
    reset(resetOptions) {
      decoder = undefined;
      started = false;
      skipLF = false;
      pending = "";
      dropEvent();
      if (resetOptions?.lastEventId !== undefined) {
        idBuffer = lastEventId = resetOptions.lastEventId;
      } else idBuffer = lastEventId;
    },
    get lastEventId() {
      return lastEventId;
    },
  };
}
