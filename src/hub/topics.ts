import { HubTopicError } from "./errors.ts";

/** The longest topic name the hub accepts, in characters. */
export const MAX_TOPIC_LENGTH = 128;
/** How many topics one subscription may hold unless the hub says otherwise. */
export const DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION = 32;

// Letters, digits and `_ . : / -`: safe in Redis keys, URLs and log lines, no separators of the
// cursor format, no whitespace or control characters.
const TOPIC = /^[A-Za-z0-9_.:/-]+$/;

/**
 * Checks one topic name and returns it; throws {@link HubTopicError} `invalid-topic` otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateTopic } from "./topics.ts";
 * assert.equal(validateTopic("room:42"), "room:42");
 * assert.throws(() => validateTopic("room 42"), { code: "invalid-topic" });
 * ```
 */
export function validateTopic(topic: unknown): string {
  if (typeof topic !== "string") {
    throw new HubTopicError("invalid-topic", `A topic must be a string, got ${typeof topic}.`);
  }
  if (topic.length === 0 || topic.length > MAX_TOPIC_LENGTH) {
    throw new HubTopicError(
      "invalid-topic",
      `Topic ${JSON.stringify(topic.slice(0, 40))} has ${topic.length} characters; use 1 to ` +
        `${MAX_TOPIC_LENGTH}.`,
    );
  }
  if (!TOPIC.test(topic)) {
    throw new HubTopicError(
      "invalid-topic",
      `Topic ${JSON.stringify(topic)} has characters outside letters, digits and "_ . : / -". ` +
        "Rename it using only those.",
    );
  }
  return topic;
}

/**
 * Validates a subscription's topics and returns them sorted and without duplicates: the order
 * the cursor's positions follow.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeTopics } from "./topics.ts";
 * assert.deepEqual(normalizeTopics(["b", "a", "b"], 32), ["a", "b"]);
 * ```
 */
export function normalizeTopics(topics: readonly unknown[], maxTopics: number): string[] {
  if (!Array.isArray(topics) || topics.length === 0) {
    throw new HubTopicError("no-topics", "A subscription needs at least one topic.");
  }
  const unique = [...new Set(topics.map(validateTopic))].sort();
  if (unique.length > maxTopics) {
    throw new HubTopicError(
      "too-many-topics",
      `A subscription may hold at most ${maxTopics} topics, got ${unique.length}. ` +
        "Subscribe to fewer, or raise the hub's maxTopicsPerSubscription.",
    );
  }
  return unique;
}
