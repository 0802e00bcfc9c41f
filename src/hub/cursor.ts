// The cursor is the `id:` of every hub event: what a browser's EventSource sends back as
// `Last-Event-ID` on its own reconnect, so resuming needs no custom client code.
//
//   h1.<epoch>.<topics tag>.<position of topic 1>.<position of topic 2>...[~<signature>]
//
// Positions follow the sorted topic list, each `<ms base36>` or `<ms base36>-<seq base36>`
// (seq 0 is left out). The topics tag is a 32-bit FNV-1a hash of the sorted list, so a cursor of
// one subscription can't silently steer another. See docs/hub.md.
import { HubCursorError } from "./errors.ts";
import { parsePosition } from "./position.ts";

/** The version tag every cursor of this format starts with. */
export const CURSOR_VERSION = "h1";

const EPOCH = /^[0-9a-z]{1,32}$/;
const PART = /^[0-9a-z]{1,11}(-[0-9a-z]{1,11})?$/;

/** A decoded cursor: which broker epoch it belongs to, and one position per sorted topic. */
export interface Cursor {
  epoch: string;
  positions: string[];
}

/**
 * The topics tag of a sorted topic list: FNV-1a (32 bits) of the names joined by LF, base36.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topicsTag } from "./cursor.ts";
 * assert.equal(topicsTag(["a", "b"]), topicsTag(["a", "b"]));
 * assert.notEqual(topicsTag(["a", "b"]), topicsTag(["a", "c"]));
 * ```
 */
export function topicsTag(sortedTopics: readonly string[]): string {
  let hash = 0x811c9dc5;
  const text = sortedTopics.join("\n");
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}

/**
 * Writes one position the compact way cursors hold it: `<ms base36>[-<seq base36>]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeCursorPosition } from "./cursor.ts";
 * assert.equal(encodeCursorPosition("36-0"), "10");
 * assert.equal(encodeCursorPosition("36-1"), "10-1");
 * ```
 */
export function encodeCursorPosition(position: string): string {
  // Every subscriber of a topic encodes the same new position in a row: remember the last one.
  if (position === lastPosition) return lastEncoded;
  lastEncoded = encodePositionUncached(position);
  lastPosition = position;
  return lastEncoded;
}

let lastPosition = "";
let lastEncoded = "";

function encodePositionUncached(position: string): string {
  const dash = position.indexOf("-");
  const ms = Number(position.slice(0, dash));
  const seq = Number(position.slice(dash + 1));
  return seq === 0 ? ms.toString(36) : ms.toString(36) + "-" + seq.toString(36);
}

function decodeBase36(text: string): number | undefined {
  const value = parseInt(text, 36);
  return Number.isSafeInteger(value) ? value : undefined;
}

function decodePosition(part: string): string | undefined {
  if (!PART.test(part)) return undefined;
  const dash = part.indexOf("-");
  const ms = decodeBase36(dash === -1 ? part : part.slice(0, dash));
  const seq = dash === -1 ? 0 : decodeBase36(part.slice(dash + 1));
  if (ms === undefined || seq === undefined) return undefined;
  const position = `${ms}-${seq}`;
  return parsePosition(position) ? position : undefined;
}

/**
 * Writes a cursor's unsigned text. `tag` is {@link topicsTag} of the subscription's topics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeCursor, topicsTag } from "./cursor.ts";
 * const cursor = encodeCursor("e1", topicsTag(["a"]), ["1700000000000-0"]);
 * assert.equal(cursor, `h1.e1.${topicsTag(["a"])}.loyw3v28`);
 * ```
 */
export function encodeCursor(epoch: string, tag: string, positions: readonly string[]): string {
  let out = CURSOR_VERSION + "." + epoch + "." + tag;
  for (const position of positions) out += "." + encodeCursorPosition(position);
  return out;
}

/**
 * Reads an unsigned cursor for a sorted topic list. Throws {@link HubCursorError}
 * (`malformed-cursor`, `cursor-topics-mismatch`) for anything that is not a cursor of exactly
 * these topics. Whether positions exist is checked later, against the broker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeCursor, encodeCursor, topicsTag } from "./cursor.ts";
 * const text = encodeCursor("e1", topicsTag(["a", "b"]), ["5-0", "7-2"]);
 * assert.deepEqual(decodeCursor(text, ["a", "b"]), { epoch: "e1", positions: ["5-0", "7-2"] });
 * assert.throws(() => decodeCursor(text, ["a", "c"]), { code: "cursor-topics-mismatch" });
 * ```
 */
export function decodeCursor(text: string, sortedTopics: readonly string[]): Cursor {
  if (typeof text !== "string" || text.length > maxCursorLength(sortedTopics.length)) {
    throw malformed("it is too long or not a string");
  }
  const parts = text.split(".");
  if (parts[0] !== CURSOR_VERSION) throw malformed(`it does not start with "${CURSOR_VERSION}."`);
  if (parts.length < 4) throw malformed("it has too few parts");
  const [, epoch, tag] = parts;
  if (!EPOCH.test(epoch)) throw malformed("its epoch is not base36");
  const count = parts.length - 3;
  if (count !== sortedTopics.length) {
    throw new HubCursorError(
      "cursor-topics-mismatch",
      `Last-Event-ID holds ${count} topic positions but this subscription has ` +
        `${sortedTopics.length} topics. Reconnect without Last-Event-ID, or with a cursor of ` +
        "this subscription.",
    );
  }
  if (tag !== topicsTag(sortedTopics)) {
    throw new HubCursorError(
      "cursor-topics-mismatch",
      "Last-Event-ID is a cursor of another set of topics. Reconnect without Last-Event-ID, or " +
        "with a cursor of this subscription.",
    );
  }
  const positions: string[] = [];
  for (let i = 3; i < parts.length; i++) {
    const position = decodePosition(parts[i]);
    if (position === undefined) throw malformed(`position ${i - 2} is not <ms>[-<seq>] in base36`);
    positions.push(position);
  }
  return { epoch, positions };
}

/**
 * The longest unsigned cursor of a subscription of `topicCount` topics, with room to spare: the
 * version, an epoch of up to 32 characters, the tag, and at most 24 characters per position.
 */
export function maxCursorLength(topicCount: number): number {
  return 64 + 32 + 24 * topicCount;
}

function malformed(why: string): HubCursorError {
  return new HubCursorError(
    "malformed-cursor",
    `Last-Event-ID is not a Herald hub cursor: ${why}. Reconnect without Last-Event-ID (or the ` +
      "lastEventId query parameter) to start from now.",
  );
}
