// MemoryBroker: memory follows what is retained (never what was asked for), expiry without a
// timer, and the resumable-stream contract (shared with UpstashBroker, tests/hub_helpers.ts),
// plus the same contract under an injected clock.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHub, HISTORY_LOST_EVENT, type HistoryLost, MemoryBroker } from "../mod.ts";
import { BrokerError } from "../src/hub/errors.ts";
import { STREAM_END_EVENT } from "../src/hub/stream_end.ts";
import {
  brokerListenerContract,
  recordingListener,
  streamBrokerContract,
  take,
} from "./hub_helpers.ts";

streamBrokerContract("MemoryBroker", () => new MemoryBroker());
brokerListenerContract("MemoryBroker", () => new MemoryBroker());

describe("MemoryBroker memory follows what it retains", () => {
  it("5,000 subscriptions of 10 unique topics each, all closed: no topic is left in memory", async () => {
    const broker = new MemoryBroker();
    const hub = createHub({ broker });
    for (let s = 0; s < 5_000; s++) {
      const topics = Array.from({ length: 10 }, (_, k) => `u${s}-${k}`);
      const reader = (await hub.subscribe({ topics })).getReader();
      await reader.read(); // the id-only start: the subscription is open and listening
      if (s === 0) {
        assert.equal(broker.topicCount, 10, "a listener's topics count while it listens");
      }
      await reader.cancel();
    }
    assert.equal(broker.topicCount, 0);
  });

  it("read() and listen() of unknown topics store nothing", async () => {
    const broker = new MemoryBroker();
    const read = await broker.read([{ topic: "nobody", after: "0-0" }], 10);
    assert.deepEqual(read.topics[0].entries, []);
    assert.equal(broker.topicCount, 0);
    const listener = { topics: ["a", "b"], onEntries() {}, onError() {} };
    await broker.listen(listener);
    assert.equal(broker.topicCount, 2);
    broker.unlisten(listener);
    assert.equal(broker.topicCount, 0);
  });

  it("a topic is forgotten when its last listener leaves, not before", async () => {
    const broker = new MemoryBroker();
    const [a, b] = [recordingListener(["x", "y"]), recordingListener(["x"])];
    await broker.listen(a);
    await broker.listen(b);
    assert.equal(broker.topicCount, 2);
    broker.unlisten(a);
    assert.equal(broker.topicCount, 1, "x keeps its other listener; y is forgotten");
    broker.unlisten(b);
    assert.equal(broker.topicCount, 0);
  });

  it("unlisten during a pending listen leaves nothing registered", async () => {
    const broker = new MemoryBroker();
    const listener = recordingListener(["x"]);
    const pending = broker.listen(listener);
    broker.unlisten(listener);
    await pending;
    assert.equal(broker.topicCount, 0);
    await broker.publish("x", [{ data: "unheard" }]);
    assert.equal(listener.calls, 0);
  });

  it("a listener whose onEntries throws leaves every topic it listened to (only retained ones stay)", async () => {
    const broker = new MemoryBroker();
    const thrower = recordingListener(["t", "quiet"], () => {
      throw new Error("a broken listener (test)");
    });
    await broker.listen(thrower);
    assert.equal(broker.topicCount, 2);
    await broker.publish("t", [{ data: 1 }]);
    assert.equal(thrower.errors.length, 1);
    assert.equal(broker.topicCount, 1, "t holds its event; quiet is forgotten");
  });

  it("expires history past maxAgeMs when that topic is never used again (a sweep on other operations)", async () => {
    let nowMs = 1_000_000;
    const broker = new MemoryBroker({ maxAgeMs: 1_000, now: () => nowMs });
    for (let k = 0; k < 100; k++) await broker.publish(`old-${k}`, [{ data: k }]);
    assert.equal(broker.topicCount, 100);
    nowMs += 500;
    await broker.publish("fresh", [{ data: "x" }]);
    assert.equal(broker.topicCount, 101, "nothing is due yet");
    nowMs += 600;
    // Any operation sweeps what is due, in time order: here a read of another topic.
    await broker.read([{ topic: "fresh", after: "0-0" }], 0);
    assert.equal(broker.topicCount, 1);
    nowMs += 1_000;
    await broker.read([], 0);
    assert.equal(broker.topicCount, 0);
  });

  it("a cursor of a forgotten topic is told its history is lost, not refused as forged", async () => {
    let nowMs = 1_000_000;
    const broker = new MemoryBroker({ maxAgeMs: 1_000, now: () => nowMs });
    const hub = createHub({ broker });
    const reader = (await hub.subscribe({ topics: ["gone"] })).getReader();
    await hub.publish("gone", { data: "old" });
    const [start] = await take(reader, 2);
    await reader.cancel();
    nowMs += 5_000;
    await broker.read([], 0);
    assert.equal(broker.topicCount, 0);
    await hub.publish("gone", { data: "new" });
    const resumed = (await hub.subscribe({ topics: ["gone"], lastEventId: start.id })).getReader();
    const [lost, next] = await take(resumed, 2);
    assert.equal(lost.event, HISTORY_LOST_EVENT);
    assert.equal((lost.data as HistoryLost).reason, "trimmed");
    assert.equal(next.data, "new");
    await resumed.cancel();
    // A cursor that had everything of the forgotten topic loses nothing.
    const caughtUp = (await hub.subscribe({ topics: ["gone"], lastEventId: lost.id })).getReader();
    assert.deepEqual((await take(caughtUp, 1)).map((e) => e.data), ["new"]);
    await caughtUp.cancel();
  });

  it("keeps a stream's every event whatever maxEventsPerTopic and maxAgeMs say, until its TTL", async () => {
    let nowMs = 1_000_000;
    const broker = new MemoryBroker({ maxEventsPerTopic: 3, maxAgeMs: 100, now: () => nowMs });
    const { fence, start } = await broker.claimStream("s", {
      owner: "h",
      leaseMs: 60_000,
      ttlMs: 10_000,
    });
    const options = { leaseMs: 60_000, ttlMs: 10_000 };
    for (let seq = 1; seq <= 10; seq++) {
      await broker.appendStream("s", fence!, [{ data: seq }], { ...options, seq });
      nowMs += 50;
    }
    await broker.appendStream("s", fence!, [], { ...options, seq: 11, end: { status: "done" } });
    nowMs += 9_000;
    let read = await broker.read([{ topic: "s", after: start }], 100);
    assert.equal(read.topics[0].entries.length, 11);
    nowMs += 2_000;
    read = await broker.read([{ topic: "s", after: start }], 100);
    assert.equal(read.topics[0].entries.length, 0);
    assert.equal(broker.topicCount, 0);
  });

  it("expires a running stream whose producer vanished leaseMs + ttlMs after its last append", async () => {
    let nowMs = 1_000_000;
    const broker = new MemoryBroker({ now: () => nowMs });
    const { fence } = await broker.claimStream("s", { owner: "h", leaseMs: 1_000, ttlMs: 5_000 });
    await broker.appendStream("s", fence!, [{ data: 1 }], { seq: 1, leaseMs: 1_000, ttlMs: 5_000 });
    nowMs += 5_900;
    await broker.read([], 0);
    assert.equal(broker.topicCount, 1);
    nowMs += 200;
    await broker.read([], 0);
    assert.equal(broker.topicCount, 0);
  });
});

describe("MemoryBroker streams under an injected clock", () => {
  it("a lease that lapses by a millisecond is ended lost by the next presence report", async () => {
    let nowMs = 1_000_000;
    const broker = new MemoryBroker({ now: () => nowMs });
    const { fence } = await broker.claimStream("s", { owner: "p", leaseMs: 1_000, ttlMs: 60_000 });
    nowMs += 1_000;
    assert.deepEqual(
      await broker.touchPresence({ owner: "r", topics: ["s"], left: [], ttlMs: 3 }),
      [],
    );
    nowMs += 1;
    assert.deepEqual(
      await broker.touchPresence({ owner: "r", topics: ["s"], left: [], ttlMs: 3 }),
      [
        "s",
      ],
    );
    await assert.rejects(
      broker.appendStream("s", fence!, [{ data: "late" }], { seq: 1, leaseMs: 1_000, ttlMs: 1 }),
      (error: unknown) => error instanceof BrokerError && error.code === "lease-lost",
    );
    const read = await broker.read([{ topic: "s", after: "0-0" }], 10);
    assert.deepEqual(read.topics[0].entries.map((e) => e.event), [
      { event: STREAM_END_EVENT, data: { status: "lost" } },
    ]);
  });

  it("counts unwatched time from the claim when no reader ever came", async () => {
    let nowMs = 1_000_000;
    const broker = new MemoryBroker({ now: () => nowMs });
    const { fence } = await broker.claimStream("s", { owner: "p", leaseMs: 10_000, ttlMs: 1 });
    nowMs += 2_500;
    const answer = await broker.appendStream("s", fence!, [], {
      seq: 1,
      leaseMs: 10_000,
      ttlMs: 1,
    });
    assert.deepEqual([answer.readers, answer.unwatchedMs], [0, 2_500]);
  });

  it("refuses nonsense limits", () => {
    assert.throws(() => new MemoryBroker({ maxEventsPerTopic: 0 }), RangeError);
    assert.throws(() => new MemoryBroker({ maxEventsPerStream: 0 }), RangeError);
    assert.throws(() => new MemoryBroker({ maxAgeMs: 0 }), RangeError);
  });
});
