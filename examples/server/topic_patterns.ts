const compiled = new Map<string, RegExp>();

function patternRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    const literal = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
    re = new RegExp(`^${literal.join(".+")}$`, "s");
    compiled.set(pattern, re);
  }
  return re;
}

/**
 * Whether a token's `topics` claim allows `topic`. A claim entry is an exact topic name, or a
 * pattern where `*` stands for one or more characters of any kind (dots included): `chat.*`
 * allows `chat.lobby` and `chat.eu.lobby` but not `chat` or `chat.`; `*` alone allows every topic.
 *
 * @example
 * ```ts
 * import { topicAllowed } from "./topic_patterns.ts";
 * console.log(topicAllowed("chat.lobby", ["chat.*"])); // true
 * console.log(topicAllowed("news", ["chat.*"])); // false
 * ```
 */
export function topicAllowed(topic: string, patterns: readonly string[]): boolean {
  for (const pattern of patterns) {
    if (pattern === topic) return true;
    if (pattern.includes("*") && patternRegExp(pattern).test(topic)) return true;
  }
  return false;
}
