// Reading what the Upstash scripts answer. The official client may have deserialised JSON text
// already (its default) or not (`automaticDeserialization: false`): accept both.
import type { BrokerRead, HubEvent, TopicRead } from "../hub/broker.ts";
import { BrokerError } from "../hub/errors.ts";
import { parsePosition } from "../hub/position.ts";

function fromJson(value: unknown, what: string): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch (cause) {
    throw new BrokerError("broker-reply", `Redis answered ${what} that is not JSON.`, { cause });
  }
}

function position(value: unknown): string {
  const text = String(value);
  if (!parsePosition(text)) {
    throw new BrokerError("broker-reply", `Redis answered ${JSON.stringify(text)} for an id.`);
  }
  return text;
}

/**
 * The ids a publish returned.
 *
 * @example
 * ```ts
 * import { readPublishReply } from "@herald/sse/upstash";
 * console.log(readPublishReply(["1-0", "1-1"])); // ["1-0", "1-1"]
 * ```
 */
export function readPublishReply(reply: unknown): string[] {
  if (!Array.isArray(reply)) {
    throw new BrokerError("broker-reply", "The publish script answered no list of ids.");
  }
  return reply.map(position);
}

/**
 * A read script's answer as a {@link BrokerRead} for the topics asked for, in order.
 *
 * @example
 * ```ts
 * import { readReadReply } from "@herald/sse/upstash";
 * const read = readReadReply('["e1",[["5-0","0-0",[["5-0","{\\"data\\":1}"]],0]]]', ["t"]);
 * console.log(read.topics[0].entries); // [{ id: "5-0", event: { data: 1 } }]
 * ```
 */
export function readReadReply(reply: unknown, topics: readonly string[]): BrokerRead {
  const parsed = fromJson(reply, "a read");
  if (!Array.isArray(parsed) || parsed.length !== 2) {
    throw new BrokerError("broker-reply", "The read script answered an unexpected shape.");
  }
  const [epoch, rows] = parsed;
  // cjson writes an empty Lua table as {}, not [].
  const list = Array.isArray(rows) ? rows : [];
  if (list.length !== topics.length) {
    throw new BrokerError("broker-reply", "The read script answered for another topic count.");
  }
  return {
    epoch: String(epoch),
    topics: list.map((row, i): TopicRead => {
      const [head, lost, entries, more] = row as [unknown, unknown, unknown, unknown];
      return {
        topic: topics[i],
        head: position(head),
        lostThrough: position(lost),
        entries: (Array.isArray(entries) ? entries : []).map((entry) => {
          const [id, event] = entry as [unknown, unknown];
          return { id: position(id), event: fromJson(event, "an event") as HubEvent };
        }),
        more: more === 1,
      };
    }),
  };
}
