// A reference SSE parser for the fuzz tests: the WHATWG "Server-sent events" parsing steps written
// as literally as possible, on the whole input at once, with no care for speed. It decodes all the
// bytes first, splits lines with one regular expression, keeps the spec's data buffer (each data
// line appended with a trailing LF, the last LF removed at dispatch) and measures limits by
// encoding. Herald's parser must agree with it on every input and chunking.

/** One dispatched event, in the shape `createParser` reports. */
export interface ReferenceEvent {
  event: string;
  data: string;
  id: string | undefined;
  lastEventId: string;
}

/** Everything the reference saw, up to the end of the input or the first refused line. */
export interface ReferenceOutcome {
  events: ReferenceEvent[];
  retries: number[];
  comments: string[];
  /** `line-too-long` or `event-too-large` at the first line past the limits, as Herald names it. */
  error?: "line-too-long" | "event-too-large";
}

const encoder = new TextEncoder();
const bytesOf = (text: string) => encoder.encode(text).length;

/**
 * Parses `input` (bytes, or text already decoded). Bytes are decoded as a stream that has not
 * ended: an incomplete character at the very end is not yet a character, as in a parser that has
 * not seen the rest. A final line without its ending is not parsed, but counts against the limit.
 */
export function referenceParse(
  input: Uint8Array | string,
  maxEventBytes = 1024 * 1024,
): ReferenceOutcome {
  let text = typeof input === "string"
    ? input
    : new TextDecoder("utf-8", { ignoreBOM: true }).decode(input, { stream: true });
  if (text.startsWith("\uFEFF")) text = text.slice(1); // one leading BOM, once
  const lines = text.split(/\r\n|\r|\n/);
  const unterminated = lines.pop()!; // "" when the text ends with a line ending
  const outcome: ReferenceOutcome = { events: [], retries: [], comments: [] };

  let dataBuffer = "";
  let eventType = "";
  let idBuffer = "";
  let blockId: string | undefined;
  const maxLineBytes = maxEventBytes + 8;

  for (const line of lines) {
    if (bytesOf(line) > maxLineBytes) {
      outcome.error = "line-too-long";
      return outcome;
    }
    if (line === "") {
      // Dispatch.
      const lastEventId = idBuffer;
      if (dataBuffer !== "") {
        outcome.events.push({
          event: eventType === "" ? "message" : eventType,
          data: dataBuffer.endsWith("\n") ? dataBuffer.slice(0, -1) : dataBuffer,
          id: blockId,
          lastEventId,
        });
      }
      dataBuffer = "";
      eventType = "";
      blockId = undefined;
      continue;
    }
    if (line.startsWith(":")) {
      outcome.comments.push(line.slice(1).startsWith(" ") ? line.slice(2) : line.slice(1));
      continue;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") eventType = value;
    else if (field === "data") {
      dataBuffer += value + "\n";
      if (bytesOf(dataBuffer) - 1 > maxEventBytes) {
        outcome.error = "event-too-large";
        return outcome;
      }
    } else if (field === "id") {
      if (!value.includes("\0")) idBuffer = blockId = value;
    } else if (field === "retry") {
      if (/^[0-9]+$/.test(value)) outcome.retries.push(parseInt(value, 10));
    }
  }
  if (bytesOf(unterminated) > maxLineBytes) outcome.error = "line-too-long";
  return outcome;
}
