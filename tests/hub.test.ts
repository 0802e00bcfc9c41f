import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  BrokerError,
  createHub,
  createParser,
  HISTORY_LOST_EVENT,
  type HistoryLost,
  HubCursorError,
  HubEventError,
  HubTopicError,
  MemoryBroker,
  type SSEMessage,
} from "../mod.ts";
import type { Broker, BrokerListener } from "../broker.ts";
// Internals the hub's own tests pin (not part of the public API).
import { decodeCursor, encodeCursor, topicsTag } from "../src/hub/cursor.ts";
import { comparePositions, nextPosition } from "../src/hub/position.ts";
import { normalizeTopics, validateTopic } from "../src/hub/topics.ts";
import {
  dataOf,
  expectedCount,
  lcgRandom,
  numberedBatch,
  pumpResuming,
  receivedCount,
  resubscribe,
  resumingClients,
  staysQuiet,
  take,
} from "./hub_helpers.ts";

function refused(code: string, ErrorClass: new (...args: never[]) => Error) {
  return (error: unknown) => {
    assert.ok(error instanceof ErrorClass, `a ${ErrorClass.name}, got ${error}`);
    assert.equal((error as unknown as { code: string }).code, code);
    assert.ok((error as Error).message.length > 20, "a message that says what to do");
    return true;
  };
}

async function cursorOf(hub: ReturnType<typeof createHub>, topics: string[]): Promise<string> {
  const reader = (await hub.subscribe({ topics })).getReader();
  const [first] = await take(reader, 1);
  await reader.cancel();
  return first.id!;
}

describe("hub positions", () => {
  it("orders positions numerically, not as strings", () => {
    assert.ok(comparePositions("9-0", "10-0") < 0);
    assert.ok(comparePositions("10-2", "10-10") < 0);
    assert.equal(comparePositions("5-5", "5-5"), 0);
  });
  it("makes ids the way XADD does: same millisecond bumps the sequence, a clock going back doesn't", () => {
    assert.equal(nextPosition("0-0", 100), "100-0");
    assert.equal(nextPosition("100-0", 100), "100-1");
    assert.equal(nextPosition("100-1", 99), "100-2");
  });
});

describe("hub cursors", () => {
  it("round-trips epoch and positions through the compact text", () => {
    const topics = ["a", "b", "c"];
    const text = encodeCursor("ep0ch", topicsTag(topics), ["0-0", "1763700000000-0", "17-99"]);
    assert.match(text, /^h1\.ep0ch\.[0-9a-z]+\.0\.[0-9a-z]+\.h-2r$/);
    assert.deepEqual(decodeCursor(text, topics), {
      epoch: "ep0ch",
      positions: ["0-0", "1763700000000-0", "17-99"],
    });
  });
  it("refuses garbage, another version and bad positions as malformed", () => {
    const tag = topicsTag(["a"]);
    for (
      const text of [
        "garbage",
        "",
        "h2.e." + tag + ".0",
        "h1.e." + tag,
        "h1.E!." + tag + ".0",
        "h1.e." + tag + ".-1",
        "h1.e." + tag + ".zzzzzzzzzzzz",
        "h1.e." + tag + ".1-2-3",
        "h1.e." + tag + ".1\n",
        "x".repeat(10_000),
      ]
    ) {
      assert.throws(() => decodeCursor(text, ["a"]), refused("malformed-cursor", HubCursorError));
    }
  });
  it("refuses a cursor with the wrong topic count or of another topic list", () => {
    const text = encodeCursor("e", topicsTag(["a", "b"]), ["1-0", "2-0"]);
    assert.throws(
      () => decodeCursor(text, ["a"]),
      refused("cursor-topics-mismatch", HubCursorError),
    );
    assert.throws(
      () => decodeCursor(text, ["a", "c"]),
      refused("cursor-topics-mismatch", HubCursorError),
    );
  });
});

describe("hub topics", () => {
  it("accepts letters, digits and _ . : / -, up to 128 characters", () => {
    assert.equal(validateTopic("room:42/chat_en-GB.v1"), "room:42/chat_en-GB.v1");
    assert.equal(validateTopic("x".repeat(128)).length, 128);
  });
  it("refuses empty, long, spaced, dotted-with-tilde or non-string names", () => {
    for (const bad of ["", "x".repeat(129), "a b", "a~b", "é", "a\nb", 42, null]) {
      assert.throws(() => validateTopic(bad), refused("invalid-topic", HubTopicError));
    }
  });
  it("sorts and de-duplicates a subscription's topics, and limits how many", () => {
    assert.deepEqual(normalizeTopics(["b", "a", "b"], 3), ["a", "b"]);
    assert.throws(
      () => normalizeTopics(["a", "b", "c"], 2),
      refused("too-many-topics", HubTopicError),
    );
    assert.throws(() => normalizeTopics([], 2), refused("no-topics", HubTopicError));
  });
});

describe("hub.publish", () => {
  it("returns one increasing id per event of a batch", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const ids = await hub.publish("t", [{ data: 1 }, { data: 2 }, { data: 3 }]);
    assert.equal(ids.length, 3);
    assert.ok(comparePositions(ids[0], ids[1]) < 0 && comparePositions(ids[1], ids[2]) < 0);
    const [next] = await hub.publish("t", { data: 4 });
    assert.ok(comparePositions(ids[2], next) < 0);
  });
  it("refuses events with an id, an injected event name, unserialisable data, or none, storing nothing", async () => {
    const broker = new MemoryBroker();
    const hub = createHub({ broker });
    const bad: unknown[] = [
      { id: "1", data: "x" },
      { retry: 5, data: "x" },
      { event: "a\nid: 9", data: "x" },
      { data: 10n },
      [{ data: "fine" }, null],
      [],
    ];
    for (const events of bad) {
      await assert.rejects(
        hub.publish("t", events as never),
        (e: unknown) => e instanceof HubEventError,
      );
    }
    await assert.rejects(
      hub.publish("bad topic", { data: 1 }),
      refused("invalid-topic", HubTopicError),
    );
    const read = await broker.read([{ topic: "t", after: "0-0" }], 10);
    assert.equal(read.topics[0].entries.length, 0);
  });
});

describe("hub.subscribe", () => {
  it("starts with an id-only cursor, then sends live events, each with a cursor id", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    await hub.publish("news", { data: "before" });
    const reader = (await hub.subscribe({ topics: ["news"] })).getReader();
    await hub.publish("news", [{ event: "headline", data: { n: 1 } }, { data: "two" }]);
    const [start, one, two] = await take(reader, 3);
    assert.deepEqual(Object.keys(start), ["id"]);
    assert.equal(one.event, "headline");
    assert.deepEqual(one.data, { n: 1 });
    assert.equal(two.data, "two");
    assert.equal(two.event, undefined);
    for (const event of [start, one, two]) assert.match(event.id!, /^h1\./);
    assert.notEqual(one.id, two.id);
    await reader.cancel();
  });
  it("resumes strictly after the cursor: nothing lost, nothing repeated", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const reader = (await hub.subscribe({ topics: ["t"] })).getReader();
    await hub.publish("t", [1, 2, 3, 4, 5].map((n) => ({ data: n })));
    const events = await take(reader, 6);
    await reader.cancel();
    const resumed = (await hub.subscribe({ topics: ["t"], lastEventId: events[2].id })).getReader();
    await hub.publish("t", { data: 6 });
    assert.deepEqual(dataOf(await take(resumed, 4)), [3, 4, 5, 6]);
    assert.equal(await staysQuiet(resumed, 50), undefined);
    await resumed.cancel();
  });
  it("resumes every topic of a multi-topic subscription from one id", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const reader = (await hub.subscribe({ topics: ["a", "b", "c"] })).getReader();
    await hub.publish("a", { data: "a1" });
    await hub.publish("b", { data: "b1" });
    await hub.publish("c", { data: "c1" });
    const [, , b1] = await take(reader, 3);
    await reader.cancel();
    await hub.publish("a", { data: "a2" });
    await hub.publish("b", { data: "b2" });
    // Topic order in the request does not matter: the cursor follows the sorted list.
    const resumed = (await hub.subscribe({ topics: ["c", "b", "a"], lastEventId: b1.id }))
      .getReader();
    const got = dataOf(await take(resumed, 3)).sort();
    assert.deepEqual(got, ["a2", "b2", "c1"]);
    await resumed.cancel();
  });
  it("replays history longer than one page, then goes live, in order", async () => {
    const hub = createHub({ broker: new MemoryBroker(), replayPageSize: 3 });
    const cursor = await cursorOf(hub, ["t", "u"]);
    for (let n = 0; n < 10; n++) await hub.publish(n % 2 ? "t" : "u", { data: n });
    const reader = (await hub.subscribe({ topics: ["t", "u"], lastEventId: cursor })).getReader();
    await hub.publish("t", { data: 10 });
    const got = dataOf(await take(reader, 11)) as number[];
    assert.deepEqual(got.filter((n) => n % 2), [1, 3, 5, 7, 9]);
    assert.deepEqual(got.filter((n) => n % 2 === 0), [0, 2, 4, 6, 8, 10]);
    await reader.cancel();
  });
  it("has no gap and no duplicate when events are published while history is read", async () => {
    const memory = new MemoryBroker();
    let publishDuringRead = 3;
    // A broker whose reads are interleaved with publishes, as on a busy store.
    const racing: Broker = {
      publish: (topic, events) => memory.publish(topic, events),
      listen: (listener) => memory.listen(listener),
      unlisten: (listener) => memory.unlisten(listener),
      async read(requests, limit) {
        if (publishDuringRead-- > 0) await memory.publish("t", [{ data: "during" }]);
        const result = await memory.read(requests, limit);
        if (publishDuringRead-- > 0) await memory.publish("t", [{ data: "after" }]);
        return result;
      },
    };
    const hub = createHub({ broker: racing, replayPageSize: 1 });
    await memory.publish("t", [{ data: "old" }]);
    const start = await memory.read([{ topic: "t", after: "0-0" }], 0);
    const cursor = encodeCursor(start.epoch, topicsTag(["t"]), ["0-0"]);
    const reader = (await hub.subscribe({ topics: ["t"], lastEventId: cursor })).getReader();
    const got = await take(reader, 4);
    assert.deepEqual(dataOf(got), ["old", "during", "after", "during"]);
    assert.equal(await staysQuiet(reader, 50), undefined);
    const ids = got.map((e) => e.id);
    assert.equal(new Set(ids).size, 4, "every event has its own cursor");
    await reader.cancel();
  });
  it("refuses a cursor that points past a topic's newest event (forged) with cursor-ahead", async () => {
    const broker = new MemoryBroker();
    const hub = createHub({ broker });
    await hub.publish("t", { data: 1 });
    const forged = encodeCursor(broker.epoch, topicsTag(["t"]), [`${Date.now() + 60_000}-0`]);
    await assert.rejects(
      hub.subscribe({ topics: ["t"], lastEventId: forged }),
      refused("cursor-ahead", HubCursorError),
    );
  });
  it("refuses a cursor of another subscription rather than replaying everything", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const cursor = await cursorOf(hub, ["a", "b"]);
    await assert.rejects(
      hub.subscribe({ topics: ["a", "c"], lastEventId: cursor }),
      refused("cursor-topics-mismatch", HubCursorError),
    );
  });
  it("ends the stream when the signal aborts", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const controller = new AbortController();
    const reader = (await hub.subscribe({ topics: ["t"], signal: controller.signal })).getReader();
    await take(reader, 1);
    const pending = reader.read();
    controller.abort();
    assert.equal((await pending).done, true);
  });
  it("disconnects a subscriber that falls more than maxQueuedEvents behind (slow-subscriber)", async () => {
    const hub = createHub({ broker: new MemoryBroker(), maxQueuedEvents: 5 });
    const reader = (await hub.subscribe({ topics: ["t"] })).getReader();
    await take(reader, 1);
    await hub.publish("t", Array.from({ length: 6 }, (_, n) => ({ data: n })));
    await assert.rejects(reader.read(), refused("slow-subscriber", BrokerError));
  });
});

describe("hub history loss is never silent", () => {
  it("sends herald.history-lost first when history was trimmed by count, then the earliest retained", async () => {
    const hub = createHub({ broker: new MemoryBroker({ maxEventsPerTopic: 3 }) });
    const cursor = await cursorOf(hub, ["t"]);
    const ids = await hub.publish("t", [1, 2, 3, 4, 5].map((n) => ({ data: n })));
    const reader = (await hub.subscribe({ topics: ["t"], lastEventId: cursor })).getReader();
    const [lost, ...rest] = await take(reader, 4);
    assert.equal(lost.event, HISTORY_LOST_EVENT);
    const data = lost.data as HistoryLost;
    assert.equal(data.topic, "t");
    assert.equal(data.reason, "trimmed");
    assert.equal(data.requested, decodeCursor(cursor, ["t"]).positions[0]);
    assert.equal(data.resumedFrom, ids[2]);
    assert.deepEqual(dataOf(rest), [3, 4, 5]);
    await reader.cancel();
    // Resuming from the loss event's own id reports the loss no more.
    const again = (await hub.subscribe({ topics: ["t"], lastEventId: lost.id })).getReader();
    assert.deepEqual(dataOf(await take(again, 3)), [3, 4, 5]);
    await again.cancel();
  });
  it("sends herald.history-lost when history expired by age (injected clock)", async () => {
    let nowMs = 1_000_000;
    const hub = createHub({ broker: new MemoryBroker({ maxAgeMs: 1000, now: () => nowMs }) });
    const cursor = await cursorOf(hub, ["t"]);
    await hub.publish("t", { data: "old" });
    nowMs += 600;
    await hub.publish("t", { data: "newer" });
    nowMs += 600;
    const reader = (await hub.subscribe({ topics: ["t"], lastEventId: cursor })).getReader();
    const [lost, newer] = await take(reader, 2);
    assert.equal((lost.data as HistoryLost).reason, "trimmed");
    assert.equal(newer.data, "newer");
    await reader.cancel();
  });
  it("does not report a loss when the trimmed events were already delivered", async () => {
    const hub = createHub({ broker: new MemoryBroker({ maxEventsPerTopic: 2 }) });
    const reader = (await hub.subscribe({ topics: ["t"] })).getReader();
    await hub.publish("t", [1, 2, 3].map((n) => ({ data: n })));
    const got = await take(reader, 4);
    await reader.cancel();
    const resumed = (await hub.subscribe({ topics: ["t"], lastEventId: got[2].id })).getReader();
    assert.deepEqual(await take(resumed, 1).then(dataOf), [3]);
    await resumed.cancel();
  });
  it("sends herald.history-lost with reason reset for a cursor of an earlier broker epoch", async () => {
    const broker = new MemoryBroker();
    const hub = createHub({ broker });
    const reader = (await hub.subscribe({ topics: ["a", "b"] })).getReader();
    await hub.publish("a", { data: "gone" });
    const [, gone] = await take(reader, 2);
    const ended = reader.read();
    broker.reset();
    await assert.rejects(ended, refused("broker-reset", BrokerError));
    await hub.publish("b", { data: "after reset" });
    const resumed = (await hub.subscribe({ topics: ["a", "b"], lastEventId: gone.id }))
      .getReader();
    const [lostA, lostB, next] = await take(resumed, 3);
    assert.deepEqual(
      [lostA, lostB].map((
        e,
      ) => [e.event, (e.data as HistoryLost).topic, (e.data as HistoryLost).reason]),
      [[HISTORY_LOST_EVENT, "a", "reset"], [HISTORY_LOST_EVENT, "b", "reset"]],
    );
    assert.equal(next.data, "after reset");
    assert.equal(decodeCursor(next.id!, ["a", "b"]).epoch, broker.epoch);
    await resumed.cancel();
  });
});

describe("hub cursor signing (cursorSecret)", () => {
  it("resumes from a signed cursor and refuses an edited one", async () => {
    const hub = createHub({
      broker: new MemoryBroker(),
      cursorSecret: "sixteen+ characters secret",
    });
    const reader = (await hub.subscribe({ topics: ["t"] })).getReader();
    await hub.publish("t", [{ data: 1 }, { data: 2 }]);
    const [, one] = await take(reader, 3);
    await reader.cancel();
    assert.match(one.id!, /~[A-Za-z0-9_-]{22}$/);
    const resumed = (await hub.subscribe({ topics: ["t"], lastEventId: one.id })).getReader();
    assert.deepEqual(dataOf(await take(resumed, 1)), [2]);
    await resumed.cancel();
    const [unsigned] = one.id!.split("~");
    const edited = unsigned.replace(/\.[0-9a-z-]+$/, ".0") + "~" + one.id!.split("~")[1];
    for (const bad of [unsigned, edited]) {
      await assert.rejects(
        hub.subscribe({ topics: ["t"], lastEventId: bad }),
        refused("cursor-signature", HubCursorError),
      );
    }
  });

  it("refuses a cursor longer than any the hub makes before checking its signature", async () => {
    const hub = createHub({
      broker: new MemoryBroker(),
      cursorSecret: "sixteen+ characters secret",
    });
    const huge = "h1." + "a".repeat(14_000) + "~" + "b".repeat(22);
    await assert.rejects(
      hub.subscribe({ topics: ["t"], lastEventId: huge }),
      refused("malformed-cursor", HubCursorError),
    );
  });
});

async function readMessages(response: Response, count: number): Promise<SSEMessage[]> {
  const messages: SSEMessage[] = [];
  const parser = createParser({ onEvent: (m) => messages.push(m) });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = Date.now() + 10_000;
  while (messages.length < count && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    parser.feed(value);
  }
  await reader.cancel();
  return messages;
}

describe("hub.response", () => {
  it("streams the subscription as text/event-stream with cursor ids", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    await hub.publish("t", { data: "one" });
    const cursor = await cursorOf(hub, ["t"]);
    await hub.publish("t", [{ data: "two" }, { event: "x", data: { n: 3 } }]);
    const response = await hub.response(
      new Request("http://h/events", { headers: { "last-event-id": cursor } }),
      { topics: ["t"] },
    );
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /^text\/event-stream/);
    const messages = await readMessages(response, 2);
    assert.deepEqual(messages.map((m) => [m.event, m.data]), [["message", "two"], [
      "x",
      '{"n":3}',
    ]]);
    assert.ok(messages.every((m) => m.id?.startsWith("h1.")));
  });
  it("reads the cursor from the lastEventId query parameter when there is no header", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const cursor = await cursorOf(hub, ["t"]);
    await hub.publish("t", { data: "after" });
    const url = "http://h/events?lastEventId=" + encodeURIComponent(cursor);
    const response = await hub.response(new Request(url), { topics: ["t"] });
    assert.deepEqual((await readMessages(response, 1)).map((m) => m.data), ["after"]);
  });
  it("answers 400 with the reason for a garbage, forged or mismatched cursor, or bad topics", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const other = await cursorOf(hub, ["x"]);
    const cases: [RequestInit | string, string[], string][] = [
      [{ headers: { "last-event-id": "garbage" } }, ["t"], "malformed-cursor"],
      [`?lastEventId=h1.e.${topicsTag(["t"])}.-zz`, ["t"], "malformed-cursor"],
      [{ headers: { "last-event-id": other } }, ["t"], "cursor-topics-mismatch"],
      [{}, ["bad topic"], "invalid-topic"],
    ];
    for (const [init, topics, code] of cases) {
      const request = typeof init === "string"
        ? new Request("http://h/events" + init)
        : new Request("http://h/events", init);
      const response = await hub.response(request, { topics });
      assert.equal(response.status, 400, code);
      assert.equal(response.headers.get("x-herald-error"), code);
      assert.match(await response.text(), /Reconnect|Rename|topic/);
    }
  });
});

/**
 * A MemoryBroker that counts its live listeners (listened to, not unlistened yet) and the
 * `unlisten` calls it was made.
 */
function countingBroker(): {
  broker: Broker;
  memory: MemoryBroker;
  listening: () => number;
  unlistens: () => number;
} {
  const memory = new MemoryBroker();
  const listening = new Set<BrokerListener>();
  let unlistens = 0;
  const broker: Broker = {
    publish: (topic, events) => memory.publish(topic, events),
    read: (requests, limit) => memory.read(requests, limit),
    listen(listener) {
      listening.add(listener);
      return memory.listen(listener);
    },
    unlisten(listener) {
      unlistens++;
      listening.delete(listener);
      memory.unlisten(listener);
    },
  };
  return { broker, memory, listening: () => listening.size, unlistens: () => unlistens };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("hub.response: the subscriber's lifetime follows the response", () => {
  it("stops listening to the broker when the client cancels the body", async () => {
    const { broker, listening } = countingBroker();
    const hub = createHub({ broker });
    const response = await hub.response(new Request("http://h/events"), { topics: ["t"] });
    assert.equal(listening(), 1);
    await hub.publish("t", { data: "one" });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    await until(() => listening() === 0, "the listener to be removed");
  });
  it("calls the broker's unlisten once when the client cancels the body (the close, then the loop's end)", async () => {
    const { broker, listening, unlistens } = countingBroker();
    const hub = createHub({ broker });
    const response = await hub.response(new Request("http://h/events"), { topics: ["t"] });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    await until(() => listening() === 0, "the listener to be removed");
    await hub.publish("t", { data: "after" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(unlistens(), 1);
  });
  it("a slow subscriber stops listening at its failure, and once: the stream's close after it calls nothing more", async () => {
    const { broker, listening, unlistens } = countingBroker();
    const hub = createHub({ broker, maxQueuedEvents: 5 });
    const reader = (await hub.subscribe({ topics: ["t"] })).getReader();
    await take(reader, 1);
    await hub.publish("t", Array.from({ length: 6 }, (_, n) => ({ data: n })));
    assert.equal(listening(), 0, "unlistened inside the publish that overflowed it");
    await assert.rejects(reader.read(), refused("slow-subscriber", BrokerError));
    assert.equal(unlistens(), 1);
  });
  it("stops listening when the response is closed by its signal option", async () => {
    const { broker, listening } = countingBroker();
    const hub = createHub({ broker });
    const controller = new AbortController();
    const response = await hub.response(new Request("http://h/events"), {
      topics: ["t"],
      signal: controller.signal,
    });
    const text = response.text();
    controller.abort();
    assert.match(await text, /^id: h1\./m);
    await until(() => listening() === 0, "the listener to be removed");
  });
  it("sends what was published, then ends the body when the broker is reset, and logs why", async () => {
    const { broker, memory, listening } = countingBroker();
    const hub = createHub({ broker });
    const logged: unknown[] = [];
    const response = await hub.response(new Request("http://h/events"), {
      topics: ["t"],
      logger: { error: (_message, error) => logged.push(error) },
    });
    await hub.publish("t", [{ data: "one" }, { data: "two" }]);
    const text = response.text();
    await until(() => listening() === 1, "the subscriber");
    await new Promise((resolve) => setTimeout(resolve, 20));
    memory.reset();
    const body = await text;
    assert.match(body, /data: one\n\n[^]*data: two\n\n$/);
    assert.ok(logged.some((e) => e instanceof BrokerError && e.code === "broker-reset"));
    assert.equal(listening(), 0);
  });
  it("signs the cursors it sends when the hub has a cursorSecret", async () => {
    const hub = createHub({ broker: new MemoryBroker(), cursorSecret: "a secret of 16+ chars" });
    const response = await hub.response(new Request("http://h/events"), { topics: ["t"] });
    await hub.publish("t", { data: "signed" });
    const [event] = await readMessages(response, 1);
    assert.equal(event.data, "signed");
    assert.match(event.id!, /~[\w-]+$/);
    const again = await hub.subscribe({ topics: ["t"], lastEventId: event.id });
    await again.cancel();
  });
});

describe("hub.response when the broker fails", () => {
  it("answers an empty stream with retry: so the client comes back with the same cursor", async () => {
    const failing: Broker = {
      publish: () => Promise.resolve([]),
      read: () => Promise.reject(new Error("unused")),
      listen: () => Promise.reject(new BrokerError("broker-unavailable", "Redis is down (test).")),
      unlisten: () => {},
    };
    const logged: unknown[] = [];
    const hub = createHub({ broker: failing });
    const response = await hub.response(new Request("http://h/events"), {
      topics: ["t"],
      logger: { error: (_message, error) => logged.push(error) },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-herald-error"), "broker-unavailable");
    assert.match(await response.text(), /^retry: 2000$/m);
    assert.equal(logged.length, 1);
  });
});

for (const via of ["subscribe", "response"] as const) {
  describe(`hub property: random disconnects and resumes (MemoryBroker, hub.${via})`, () => {
    it("every client gets every event of its topics exactly once, in order per topic", async () => {
      const random = lcgRandom(0x5eed);
      const topics = ["t0", "t1", "t2", "t3", "t4"];
      const totalEvents = 10_000;
      const hub = createHub({
        broker: new MemoryBroker({ maxEventsPerTopic: totalEvents }),
        replayPageSize: 64,
      });
      const clients = resumingClients(topics, 8, via);
      for (const client of clients) await resubscribe(hub, client);
      const counters = new Map(topics.map((t) => [t, 0]));
      let published = 0;
      const allDone = () =>
        published >= totalEvents &&
        clients.every((c) => receivedCount(c) >= expectedCount(c, counters));
      // Each client drains its stream, keeps the cursor as EventSource would, and drops at random.
      const pumps = clients.map((client) =>
        pumpResuming(hub, client, { done: allDone, dropChance: 0.002, random })
      );
      const started = Date.now();
      while (published < totalEvents) {
        const topic = topics[Math.floor(random() * topics.length)];
        const batch = Math.min(1 + Math.floor(random() * 5), totalEvents - published);
        await hub.publish(topic, numberedBatch(topic, batch, counters));
        published += batch;
        if (published % 200 < batch) await new Promise((r) => setTimeout(r, 0));
      }
      const deadline = Date.now() + 60_000;
      while (!allDone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const client of clients) await client.reader!.cancel();
      await Promise.all(pumps);
      for (const client of clients) {
        for (const topic of client.topics) {
          const seen = client.seen.get(topic) ?? [];
          const expected = Array.from({ length: counters.get(topic)! }, (_, n) => n);
          assert.deepEqual(seen, expected, `client of ${client.topics} on ${topic}`);
        }
      }
      const reconnects = clients.reduce((s, c) => s + c.reconnects, 0);
      assert.ok(reconnects > 10, `clients reconnected (${reconnects} times)`);
      assert.ok(Date.now() - started < 120_000);
    });
  });
}
