// What the hub accepts from a publisher, beyond what the encoder accepts: an event every client
// can parse with its default limits, under a name that is printable, short, and not the hub's own.
import { utf8Length } from "../protocol/utf8_length.ts";

/**
 * The largest event `hub.publish` accepts by default, in UTF-8 bytes as written on the wire:
 * its `event:` and `data:` lines and the blank line, plus {@link HUB_ID_LINE_BYTES} for the
 * `id:` line the hub adds. 1 MiB, the parser's default `maxEventBytes`: every event the hub
 * takes, a Herald client with default settings can read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAX_HUB_EVENT_BYTES } from "./event_limits.ts";
 * assert.equal(DEFAULT_MAX_HUB_EVENT_BYTES, 1024 * 1024);
 * ```
 */
export const DEFAULT_MAX_HUB_EVENT_BYTES = 1024 * 1024;

/**
 * What an event's size is counted with for the `id:` line the hub writes (its cursor): 1 KiB,
 * room for `id: ` and the signed cursor of a 32-topic subscription (839 bytes at most).
 */
export const HUB_ID_LINE_BYTES = 1024;

/** The longest event name `hub.publish` accepts, in UTF-8 bytes. */
export const MAX_HUB_EVENT_NAME_BYTES = 256;

/** Event names the hub writes itself (`herald.history-lost`, `herald.end`): no publisher may. */
export const RESERVED_EVENT_PREFIX = "herald.";

/**
 * Why an event name can't be published, or `undefined` when it can. A name must be at most
 * {@link MAX_HUB_EVENT_NAME_BYTES} of well-formed Unicode without control characters (C0,
 * including TAB, CR, LF and NUL; DEL; C1), which a client would split on, drop, or show as
 * garbage; a lone surrogate would reach clients as U+FFFD, another name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventNameProblem } from "./event_limits.ts";
 * assert.equal(eventNameProblem("price.update"), undefined);
 * assert.match(eventNameProblem("a\0b")!, /control character/);
 * ```
 */
export function eventNameProblem(name: string): string | undefined {
  if (name.length > MAX_HUB_EVENT_NAME_BYTES) return "it is longer than 256 bytes";
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
      return `it holds the control character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = name.charCodeAt(i + 1);
      if (code > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) {
        return "it holds a lone surrogate (not well-formed Unicode)";
      }
      i++;
    }
  }
  if (utf8Length(name) > MAX_HUB_EVENT_NAME_BYTES) return "it is longer than 256 bytes";
  return undefined;
}

/**
 * Checks a `maxEventBytes` setting: a safe integer with room for the id line and some data.
 * Throws `RangeError` otherwise, so a bad setting fails when the hub is made.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkMaxHubEventBytes } from "./event_limits.ts";
 * assert.equal(checkMaxHubEventBytes(65536), 65536);
 * assert.throws(() => checkMaxHubEventBytes(100), RangeError);
 * ```
 */
export function checkMaxHubEventBytes(value: number): number {
  if (!Number.isSafeInteger(value) || value < 2 * HUB_ID_LINE_BYTES) {
    throw new RangeError(
      `maxEventBytes must be an integer of at least ${2 * HUB_ID_LINE_BYTES} bytes (the id ` +
        `line the hub adds takes up to ${HUB_ID_LINE_BYTES}), got ${value}.`,
    );
  }
  return value;
}

/**
 * Whether `encoded` (an event as the encoder wrote it, without its id) and the hub's id line fit
 * in `maxEventBytes`. Measures at most once, and not at all when the text is short.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitsHubEvent, HUB_ID_LINE_BYTES } from "./event_limits.ts";
 * assert.equal(fitsHubEvent("data: hi\n\n", 2 * HUB_ID_LINE_BYTES), true);
 * assert.equal(fitsHubEvent("data: " + "€".repeat(400) + "\n\n", 2 * HUB_ID_LINE_BYTES), false);
 * ```
 */
export function fitsHubEvent(encoded: string, maxEventBytes: number): boolean {
  const room = maxEventBytes - HUB_ID_LINE_BYTES;
  if (encoded.length * 3 <= room) return true;
  if (encoded.length > room) return false;
  return utf8Length(encoded) <= room;
}
