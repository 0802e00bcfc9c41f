// Topic patterns of a token's `topics` claim. Patterns come from tokens, so matching must cost
// little whatever the pattern: no regular expression (a backtracking engine takes exponential
// time on `*a*a*a*a*b`), no cache keyed by pattern (it would grow with every token ever seen).

/**
 * Whether `pattern` matches all of `topic`, where `*` stands for one or more characters of any
 * kind (dots included) and every other character stands for itself.
 *
 * The classic two-pointer glob match: walk both strings; at a `*`, remember where it is and let it
 * take one character; on a mismatch, let the most recent `*` take one character more and retry
 * from just after it. Only the most recent `*` is ever retried: giving an earlier one more
 * characters could only start the later one further right, and the later one already tries every
 * end. So the work is at most `pattern.length × topic.length` steps, and one pass for most
 * patterns; never exponential.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { patternMatches } from "./topic_patterns.ts";
 * assert.equal(patternMatches("chat.*", "chat.eu.lobby"), true);
 * assert.equal(patternMatches("chat.*", "chat."), false); // `*` takes at least one character
 * assert.equal(patternMatches("*a*a*a*a*a*b", "a".repeat(128)), false); // at once
 * ```
 */
export function patternMatches(pattern: string, topic: string): boolean {
  // Every character of a pattern takes at least one of the topic (a `*` one or more).
  if (pattern.length > topic.length) return false;
  let p = 0;
  let t = 0;
  let starP = -1; // index of the most recent `*` in the pattern
  let starEnd = 0; // the topic index just after what that `*` has taken
  while (t < topic.length) {
    if (p < pattern.length && pattern.charCodeAt(p) === STAR) {
      starP = p++;
      starEnd = ++t; // a `*` takes one character at least
    } else if (p < pattern.length && pattern.charCodeAt(p) === topic.charCodeAt(t)) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starEnd; // the most recent `*` takes one character more
    } else {
      return false;
    }
  }
  // The topic is used up: what is left of the pattern must be nothing (a `*` needs a character).
  return p === pattern.length;
}

const STAR = 42; // "*"

/**
 * Whether a token's `topics` claim allows `topic`. A claim entry is an exact topic name, or a
 * pattern where `*` stands for one or more characters of any kind (dots included): `chat.*`
 * allows `chat.lobby` and `chat.eu.lobby` but not `chat` or `chat.`; `*` alone allows every topic.
 * Matched by {@link patternMatches}, in time bounded by the lengths involved.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topicAllowed } from "./topic_patterns.ts";
 * assert.equal(topicAllowed("chat.lobby", ["news", "chat.*"]), true);
 * assert.equal(topicAllowed("news.eu", ["news", "chat.*"]), false);
 * ```
 */
export function topicAllowed(topic: string, patterns: readonly string[]): boolean {
  for (const pattern of patterns) {
    if (pattern === topic) return true;
    if (pattern.includes("*") && patternMatches(pattern, topic)) return true;
  }
  return false;
}
