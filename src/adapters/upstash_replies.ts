// Reading what the Upstash scripts answer. The official client may have deserialised JSON text
// already (its default) or not (`automaticDeserialization: false`): accept both.
import type { BrokerRead, HubEvent, StreamAppend, StreamClaim, TopicRead } from "../hub/broker.ts";
import { BrokerError } from "../hub/errors.ts";
import { parsePosition } from "../hub/position.ts";
import type { StreamEnd } from "../hub/stream_end.ts";

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
 * import assert from "node:assert/strict";
 * import { readPublishReply } from "./upstash_replies.ts";
 * assert.deepEqual(readPublishReply(["1-0", "1-1"]), ["1-0", "1-1"]);
 * assert.throws(() => readPublishReply(["nope"]));
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
 * import assert from "node:assert/strict";
 * import { readReadReply } from "./upstash_replies.ts";
 * const read = readReadReply('["e1",[["5-0","0-0",[["5-0","{\\"data\\":1}"]],0,"r"]]]', ["t"]);
 * assert.deepEqual(read.topics[0].entries, [{ id: "5-0", event: { data: 1 } }]);
 * assert.deepEqual(read.topics[0].stream, { end: null });
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
      const [head, lost, entries, more, stream] = row as unknown[];
      const read: TopicRead = {
        topic: topics[i],
        head: position(head),
        lostThrough: position(lost),
        entries: (Array.isArray(entries) ? entries : []).map((entry) => {
          const [id, event] = entry as [unknown, unknown];
          return { id: position(id), event: fromJson(event, "an event") as HubEvent };
        }),
        more: more === 1,
      };
      // "" no stream, "r" running, else the position of its end.
      if (stream === "r") read.stream = { end: null };
      else if (stream) read.stream = { end: position(stream) };
      return read;
    }),
  };
}

function endOf(value: unknown): StreamEnd | undefined {
  if (value === null || value === undefined) return undefined;
  const end = fromJson(value, "a stream end") as StreamEnd;
  if (typeof end !== "object" || end === null || typeof end.status !== "string") {
    throw new BrokerError("broker-reply", "The claim script answered a stream end of no status.");
  }
  return end;
}

/**
 * The claim script's answer, `[epoch, start, fence | null, end | null]`, as a
 * {@link StreamClaim}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readClaimReply } from "./upstash_replies.ts";
 * assert.deepEqual(readClaimReply('["e1","5-0","f1",null]'), {
 *   epoch: "e1",
 *   start: "5-0",
 *   fence: "f1",
 * });
 * assert.deepEqual(readClaimReply(["e1", "5-0", null, { status: "done" }]).end, {
 *   status: "done",
 * });
 * ```
 */
export function readClaimReply(reply: unknown): StreamClaim {
  const parsed = fromJson(reply, "a claim");
  if (!Array.isArray(parsed) || parsed.length !== 4) {
    throw new BrokerError("broker-reply", "The claim script answered an unexpected shape.");
  }
  const [epoch, start, fence, end] = parsed;
  const claim: StreamClaim = { epoch: String(epoch), start: position(start) };
  if (typeof fence === "string" && fence !== "") claim.fence = fence;
  const ended = endOf(end);
  if (ended) claim.end = ended;
  return claim;
}

/**
 * The append script's answer as a {@link StreamAppend}; `{"lost":true}` is `BrokerError`
 * `lease-lost`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readAppendReply } from "./upstash_replies.ts";
 * assert.deepEqual(
 *   readAppendReply('{"ids":["7-0"],"cancel":"stop","readers":2,"unwatchedMs":0}', "t"),
 *   { ids: ["7-0"], cancel: "stop", readers: 2, unwatchedMs: 0 },
 * );
 * assert.throws(() => readAppendReply({ lost: true }, "t"), { code: "lease-lost" });
 * ```
 */
export function readAppendReply(reply: unknown, topic: string): StreamAppend {
  const parsed = fromJson(reply, "an append") as Record<string, unknown> | null;
  if (typeof parsed !== "object" || parsed === null) {
    throw new BrokerError("broker-reply", "The append script answered an unexpected shape.");
  }
  if (parsed.lost === true) {
    throw new BrokerError(
      "lease-lost",
      `The stream of "${topic}" is no longer this producer's: its lease expired and the stream ` +
        "was ended, or it expired. Nothing was written.",
    );
  }
  const { ids, cancel, readers, unwatchedMs } = parsed;
  if (typeof readers !== "number" || typeof unwatchedMs !== "number") {
    throw new BrokerError("broker-reply", "The append script answered no presence counts.");
  }
  // cjson-free Lua writes an empty id list as []; an automatic deserialiser may give {} for it.
  const answer: StreamAppend = {
    ids: (Array.isArray(ids) ? ids : []).map(position),
    readers,
    unwatchedMs,
  };
  if (cancel !== null && cancel !== undefined) answer.cancel = String(cancel);
  return answer;
}

/**
 * The presence script's answer: the topics it ended `lost`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTopicsReply } from "./upstash_replies.ts";
 * assert.deepEqual(readTopicsReply('["a","b"]'), ["a", "b"]);
 * assert.deepEqual(readTopicsReply("[]"), []);
 * ```
 */
export function readTopicsReply(reply: unknown): string[] {
  const parsed = fromJson(reply, "a topic list");
  if (!Array.isArray(parsed)) {
    throw new BrokerError("broker-reply", "The presence script answered no topic list.");
  }
  return parsed.map(String);
}
