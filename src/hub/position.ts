// Positions are Redis-stream ids, `<ms>-<seq>`, in both brokers: one comparator and one cursor
// codec serve every broker, and a Redis stream's own ids need no translation.

/** The position before every event of a topic (Redis' `0-0`). */
export const ZERO_POSITION = "0-0";

const POSITION = /^(\d{1,16})-(\d{1,16})$/;

/**
 * Splits a position into its millisecond and sequence parts, or `undefined` if it isn't one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePosition } from "./position.ts";
 * assert.deepEqual(parsePosition("1700000000000-3"), [1700000000000, 3]);
 * assert.equal(parsePosition("1-2-3"), undefined);
 * ```
 */
export function parsePosition(position: string): [number, number] | undefined {
  const match = POSITION.exec(position);
  if (!match) return undefined;
  const ms = Number(match[1]);
  const seq = Number(match[2]);
  if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) return undefined;
  return [ms, seq];
}

/**
 * Orders two positions: negative if `a` comes first, 0 if equal, positive if `a` comes later.
 * Both must be valid positions (see {@link parsePosition}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { comparePositions } from "@herald/sse/broker";
 * assert.ok(comparePositions("5-1", "10-0") < 0);
 * assert.ok(comparePositions("10-10", "10-9") > 0);
 * assert.equal(comparePositions("7-0", "7-0"), 0);
 * ```
 */
export function comparePositions(a: string, b: string): number {
  if (a === b) return 0;
  // Runs once per delivered event per subscriber, so no parsing and no allocation: positions are
  // canonical (no leading zeros), so more digits means larger, and equal lengths compare by digit.
  const da = a.indexOf("-");
  const db = b.indexOf("-");
  if (da !== db) return da - db;
  for (let i = 0; i < da; i++) {
    const diff = a.charCodeAt(i) - b.charCodeAt(i);
    if (diff !== 0) return diff;
  }
  const seqA = a.length - da;
  const seqB = b.length - db;
  if (seqA !== seqB) return seqA - seqB;
  for (let i = da + 1; i < a.length; i++) {
    const diff = a.charCodeAt(i) - b.charCodeAt(i);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * The position of the next event appended at `nowMs` after `last`, as Redis' XADD `*` makes it:
 * the clock's millisecond (never going backwards) and a sequence within it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nextPosition } from "./position.ts";
 * assert.equal(nextPosition("100-0", 100), "100-1");
 * assert.equal(nextPosition("100-4", 250), "250-0");
 * assert.equal(nextPosition("100-4", 99), "100-5"); // the clock went back
 * ```
 */
export function nextPosition(last: string, nowMs: number): string {
  const [lastMs, lastSeq] = parsePosition(last) ?? [0, 0];
  const ms = Math.floor(nowMs);
  if (ms > lastMs) return `${ms}-0`;
  return `${lastMs}-${lastSeq + 1}`;
}
