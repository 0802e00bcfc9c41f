// Resumable streams (hub.startStream / hub.cancelStream) on MemoryBroker: one producer per topic,
// coalesced appends with backpressure, the in-band end and what readers do with it (close, 204),
// cancel, idle cancel from reader presence, and a stale producer that can't write. Two hubs on
// one broker stand for two isolates.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHub, type Hub, MemoryBroker } from "../mod.ts";
import type { Broker, StreamAppend, StreamBroker } from "../src/hub/broker.ts";
import { HubEventError, HubStreamError } from "../src/hub/errors.ts";
import type { DeliveryInfo } from "../src/hub/hub_options.ts";
import { STREAM_END_EVENT, type StreamEnd } from "../src/hub/stream_end.ts";
import type { StreamWriter } from "../src/hub/stream_options.ts";
import { dataOf, endOf, readToEnd, sleep, startedStream, take, until } from "./hub_helpers.ts";

/** A MemoryBroker seen through a wrapper that counts appends and can freeze them. */
function watchedBroker(memory = new MemoryBroker()) {
  const appends: { events: number; end: boolean }[] = [];
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  let delayMs = 0;
  const broker: StreamBroker = {
    publish: (topic, events) => memory.publish(topic, events),
    read: (requests, limit) => memory.read(requests, limit),
    listen: (listener) => memory.listen(listener),
    unlisten: (listener) => memory.unlisten(listener),
    claimStream: (topic, options) => memory.claimStream(topic, options),
    async appendStream(topic, fence, events, options): Promise<StreamAppend> {
      if (gate) await gate;
      if (delayMs > 0) await sleep(delayMs);
      appends.push({ events: events.length, end: options.end !== undefined });
      return await memory.appendStream(topic, fence, events, options);
    },
    cancelStream: (topic, reason) => memory.cancelStream(topic, reason),
    touchPresence: (touch) => memory.touchPresence(touch),
    watchCancel: (topic, watcher) => memory.watchCancel(topic, watcher),
  };
  return {
    broker,
    memory,
    appends,
    /** Appends wait from now on (as if the producer's process froze) until `thaw()`. */
    freeze() {
      gate = new Promise((resolve) => (open = resolve));
    },
    thaw() {
      gate = undefined;
      open?.();
    },
    slow(ms: number) {
      delayMs = ms;
    },
  };
}

const quietLogger = () => {
  const errors: unknown[] = [];
  return { errors, logger: { error: (_message: string, error: unknown) => errors.push(error) } };
};

describe("hub.startStream", () => {
  it("runs the producer; a reader from the cursor gets every write as its own event, then herald.end done", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const stream = await startedStream(hub, "answer", async (out) => {
      await out.write("Hel");
      await out.write({ event: "token", data: { text: "lo" } });
    });
    assert.equal(stream.started, true);
    const events = await readToEnd(hub, ["answer"], stream.cursor);
    assert.deepEqual(events.map((e) => [e.event, e.data]), [
      [undefined, "Hel"],
      ["token", { text: "lo" }],
      [STREAM_END_EVENT, { status: "done" } satisfies StreamEnd],
    ]);
    assert.equal(new Set(events.map((e) => e.id)).size, 3, "each event has its own cursor");
    await stream.run;
  });

  it("runs one producer for 20 concurrent calls across two hubs; every call gets the same cursor", async () => {
    const broker = new MemoryBroker();
    const hubs = [createHub({ broker }), createHub({ broker })];
    let runs = 0;
    const calls = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        hubs[i % 2].startStream("one", async (out) => {
          runs++;
          await out.write("only once");
        })),
    );
    assert.equal(calls.filter((c) => c.started).length, 1);
    assert.equal(new Set(calls.map((c) => c.cursor)).size, 1);
    const events = await readToEnd(hubs[1], ["one"], calls[0].cursor);
    assert.deepEqual(dataOf(events), ["only once", { status: "done" }]);
    assert.equal(runs, 1);
  });

  it("for a stream that ended runs nothing and returns the same cursor", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const first = await startedStream(hub, "done", (out) => out.write("x"));
    await first.run;
    let ran = false;
    const again = await hub.startStream("done", () => {
      ran = true;
    });
    assert.deepEqual(again, { started: false, cursor: first.cursor });
    assert.equal(ran, false);
  });

  it("cursor is the position before the stream's first event, even on a topic with history", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    await hub.publish("busy", [{ data: "older" }]);
    const stream = await startedStream(hub, "busy", (out) => out.write("first"));
    const events = await readToEnd(hub, ["busy"], stream.cursor);
    assert.deepEqual(dataOf(events), ["first", { status: "done" }]);
  });

  it("signs the cursor when the hub signs cursors", async () => {
    const hub = createHub({ broker: new MemoryBroker(), cursorSecret: "a secret of 16+ chars" });
    const stream = await startedStream(hub, "signed", (out) => out.write("x"));
    assert.match(stream.cursor, /~[\w-]{22}$/);
    assert.deepEqual(dataOf(await readToEnd(hub, ["signed"], stream.cursor)), ["x", {
      status: "done",
    }]);
  });

  it("type-checks writes against the event map", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    type Answer = { token: { text: string } };
    const stream = await startedStream<Answer>(hub, "typed", async (out) => {
      await out.write({ event: "token", data: { text: "ok" } });
      // @ts-expect-error: a token's data is { text: string }
      await out.write({ event: "token", data: "no" }).catch(() => {});
      // @ts-expect-error: a string is the data of a "message" event, which this map has not
      await out.write("no").catch(() => {});
    });
    await stream.run;
    const end: StreamEnd = endOf(await readToEnd(hub, ["typed"], stream.cursor));
    assert.equal(end.status, "done");
  });

  it("refuses an invalid event (HubEventError) and a write after the end (stream-ended)", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    let late: StreamWriter | undefined;
    const stream = await startedStream(hub, "refusals", async (out) => {
      await assert.rejects(out.write({ id: "7", data: "x" } as never), HubEventError);
      late = out;
    });
    await stream.run;
    await assert.rejects(
      late!.write("too late"),
      (error: unknown) => error instanceof HubStreamError && error.code === "stream-ended",
    );
  });

  it("rejects with a TypeError on a broker without streams", async () => {
    const memory = new MemoryBroker();
    const plain: Broker = {
      publish: (topic, events) => memory.publish(topic, events),
      read: (requests, limit) => memory.read(requests, limit),
      listen: (listener) => memory.listen(listener),
      unlisten: (listener) => memory.unlisten(listener),
    };
    const hub = createHub({ broker: plain });
    await assert.rejects(hub.startStream("t", () => {}), TypeError);
    await assert.rejects(hub.cancelStream("t"), TypeError);
  });

  it("refuses bad options and topics before anything is stored", async () => {
    const broker = new MemoryBroker();
    const hub = createHub({ broker });
    await assert.rejects(hub.startStream("t", () => {}, { leaseMs: -1 }), RangeError);
    await assert.rejects(hub.startStream("t", () => {}, { coalesceMs: NaN }), RangeError);
    await assert.rejects(hub.startStream("bad topic", () => {}), /topic/i);
    await assert.rejects(hub.cancelStream("t", "x".repeat(1000)), TypeError);
    assert.equal(broker.topicCount, 0);
  });
});

describe("hub.startStream: how a stream ends", () => {
  it("a producer that throws ends error with a safe message; the error goes to the logger", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const { errors, logger } = quietLogger();
    const stream = await startedStream(hub, "fails", async (out) => {
      await out.write("partial");
      throw new Error("the upstream key sk-secret was refused");
    }, { logger });
    await stream.run;
    const events = await readToEnd(hub, ["fails"], stream.cursor);
    assert.deepEqual(dataOf(events), ["partial", {
      status: "error",
      message: "The stream failed.",
    }]);
    assert.ok(!JSON.stringify(events).includes("sk-secret"), "the error never reaches readers");
    assert.match(String(errors[0]), /sk-secret/);
  });

  it("onError gives the message readers see, and is told the error", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const { logger } = quietLogger();
    const seen: unknown[] = [];
    const stream = await startedStream(hub, "fails-nicely", () => {
      throw new Error("overloaded");
    }, {
      logger,
      onError: (error) => {
        seen.push(error);
        return "The model is busy; try again.";
      },
    });
    await stream.run;
    const end = endOf(await readToEnd(hub, ["fails-nicely"], stream.cursor));
    assert.deepEqual(end, { status: "error", message: "The model is busy; try again." });
    assert.match(String(seen[0]), /overloaded/);
  });

  it("cancelStream from another hub aborts the producer's signal and ends cancelled with the reason", async () => {
    const broker = new MemoryBroker();
    const [producing, other] = [createHub({ broker }), createHub({ broker })];
    let reason: unknown;
    let waiting = false;
    const stream = await startedStream(producing, "stop-me", async (out) => {
      await out.write("before");
      waiting = true;
      await new Promise((resolve) => out.signal.addEventListener("abort", resolve));
      reason = out.signal.reason;
      await assert.rejects(out.write("after"), HubStreamError);
    });
    await until(() => waiting, "the producer to wait");
    assert.equal(await other.cancelStream("stop-me", "stop button"), true);
    await stream.run;
    assert.ok(reason instanceof HubStreamError);
    assert.equal(reason.code, "stream-cancelled");
    assert.equal(reason.reason, "stop button");
    const events = await readToEnd(other, ["stop-me"], stream.cursor);
    assert.deepEqual(dataOf(events), ["before", { status: "cancelled", reason: "stop button" }]);
    assert.equal(await other.cancelStream("stop-me"), false, "nothing left to cancel");
    assert.equal(await other.cancelStream("never-started"), false);
  });

  it("ends cancelled at once even when the producer ignores its signal", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    let finish: (() => void) | undefined;
    const stream = await startedStream(hub, "stubborn", async (out) => {
      await out.write("x");
      await new Promise<void>((resolve) => (finish = resolve));
    });
    await until(() => finish !== undefined, "the producer to start");
    await hub.cancelStream("stubborn", "enough");
    const events = await readToEnd(hub, ["stubborn"], stream.cursor);
    assert.deepEqual(endOf(events), { status: "cancelled", reason: "enough" });
    finish!();
    await stream.run;
  });

  it("idleCancelMs: nobody reads, so the stream is cancelled as unwatched", async () => {
    const hub = createHub({ broker: new MemoryBroker(), presenceIntervalMs: 50 });
    const stream = await startedStream(hub, "alone", async (out) => {
      await new Promise((resolve) => out.signal.addEventListener("abort", resolve));
    }, { idleCancelMs: 300, leaseMs: 3_000 });
    await stream.run;
    const end = endOf(await readToEnd(hub, ["alone"], stream.cursor));
    assert.deepEqual(end, { status: "cancelled", reason: "unwatched" });
  });

  it("idleCancelMs: a reader on another hub keeps the stream running; when it leaves, the stream is cancelled", async () => {
    const broker = new MemoryBroker();
    const producing = createHub({ broker, presenceIntervalMs: 50 });
    const reading = createHub({ broker, presenceIntervalMs: 50 });
    let ticks = 0;
    const stream = await startedStream(producing, "watched", async (out) => {
      while (!out.signal.aborted) {
        await out.write({ event: "tick", data: ticks++ });
        await sleep(20);
      }
    }, { idleCancelMs: 400, leaseMs: 3_000, coalesceMs: 10 });
    const controller = new AbortController();
    const response = await reading.response(
      new Request("http://h/", { headers: { "last-event-id": stream.cursor } }),
      { topics: ["watched"], signal: controller.signal },
    );
    const body = response.text();
    await sleep(1_200);
    assert.ok(ticks > 10, `still producing (${ticks} ticks)`);
    const ticksAtLeave = ticks;
    controller.abort();
    await body;
    const leftAtMs = Date.now();
    await stream.run;
    const stoppedAfterMs = Date.now() - leftAtMs;
    const end = endOf(await readToEnd(reading, ["watched"], stream.cursor));
    assert.deepEqual(end, { status: "cancelled", reason: "unwatched" });
    assert.ok(ticks > ticksAtLeave, "it ran on for a while after the reader left");
    assert.ok(stoppedAfterMs >= 300, `cancelled ${stoppedAfterMs} ms after the reader left`);
    assert.ok(stoppedAfterMs < 400 + 5_000, `cancelled ${stoppedAfterMs} ms after the reader left`);
  });

  it("a producer that stalls past its lease is ended lost by the reader's hub; when it wakes, it can't write", async () => {
    const frozen = watchedBroker();
    const { logger, errors } = quietLogger();
    const producing = createHub({ broker: frozen.broker });
    const reading = createHub({ broker: frozen.memory, presenceIntervalMs: 50 });
    let woke: unknown;
    const stream = await startedStream(producing, "stalls", async (out) => {
      await out.write("before the stall");
      await new Promise((resolve) => out.signal.addEventListener("abort", resolve));
      woke = out.signal.reason;
    }, { leaseMs: 300, coalesceMs: 0, logger });
    const reader = (await reading.subscribe({ topics: ["stalls"], lastEventId: stream.cursor }))
      .getReader();
    assert.deepEqual(dataOf(await take(reader, 1)), ["before the stall"]);
    frozen.freeze();
    const frozenAtMs = Date.now();
    const [end] = await take(reader, 1, 10_000);
    const lostAfterMs = Date.now() - frozenAtMs;
    assert.deepEqual([end.event, end.data], [STREAM_END_EVENT, { status: "lost" }]);
    assert.ok(lostAfterMs < 300 + 2_000 + 3_000, `lost after ${lostAfterMs} ms`);
    assert.equal((await reader.read()).done, true, "the reader's stream ends after herald.end");
    frozen.thaw();
    await stream.run;
    assert.ok(woke instanceof HubStreamError && woke.code === "lease-lost", String(woke));
    assert.ok(errors.length > 0, "the lost lease was logged");
    const all = await readToEnd(reading, ["stalls"], stream.cursor);
    assert.deepEqual(dataOf(all), ["before the stall", { status: "lost" }], "nothing after lost");
  });
});

describe("hub.startStream: coalescing and backpressure", () => {
  it("writes within coalesceMs go to the broker as one append, each its own event", async () => {
    const watched = watchedBroker();
    const hub = createHub({ broker: watched.broker });
    const stream = await startedStream(hub, "burst", async (out) => {
      for (let n = 0; n < 100; n++) await out.write({ data: n });
      await sleep(150);
      for (let n = 100; n < 200; n++) await out.write({ data: n });
    }, { coalesceMs: 50 });
    await stream.run;
    const withEvents = watched.appends.filter((a) => a.events > 0);
    assert.deepEqual(withEvents.map((a) => a.events), [100, 100]);
    const events = await readToEnd(hub, ["burst"], stream.cursor);
    assert.deepEqual(dataOf(events).slice(0, -1), Array.from({ length: 200 }, (_, n) => n));
    assert.equal(new Set(events.map((e) => e.id)).size, 201);
  });

  it("a batch past maxBatchBytes goes at once, and a producer faster than the broker waits (memory stays bounded)", async () => {
    const watched = watchedBroker();
    watched.slow(20);
    const hub = createHub({ broker: watched.broker });
    const payload = "x".repeat(84); // about 100 bytes per event in a batch
    let pendingWrites = 0;
    const stream = await startedStream(hub, "fast", async (out) => {
      for (let n = 0; n < 300; n++) {
        const write = out.write(payload);
        let done = false;
        write.then(() => (done = true));
        await Promise.resolve();
        if (!done) pendingWrites++;
        await write;
      }
    }, { coalesceMs: 60_000, maxBatchBytes: 1_000 });
    await stream.run;
    const sizes = watched.appends.filter((a) => a.events > 0).map((a) => a.events);
    assert.ok(sizes.length >= 20, `sent in many batches (${sizes})`);
    assert.ok(Math.max(...sizes) <= 11, `no batch past about maxBatchBytes (${sizes})`);
    assert.ok(pendingWrites >= 20, `writes waited for the broker (${pendingWrites})`);
    assert.equal(dataOf(await readToEnd(hub, ["fast"], stream.cursor)).length, 301);
  });

  it("unawaited writes that pile up end the stream as an error (stream-overflow), not unbounded memory", async () => {
    const watched = watchedBroker();
    watched.slow(50);
    const { logger, errors } = quietLogger();
    const hub = createHub({ broker: watched.broker });
    const stream = await startedStream(hub, "flood", (out) => {
      for (let n = 0; n < 10_000; n++) void out.write("y".repeat(100));
    }, { maxBatchBytes: 1_000, logger });
    await stream.run;
    const end = endOf(await readToEnd(hub, ["flood"], stream.cursor));
    assert.equal(end.status, "error");
    assert.ok(errors.some((e) => e instanceof HubStreamError && e.code === "stream-overflow"));
  });
});

describe("readers of a stream", () => {
  async function finished(hub: Hub, topic: string, writes: string[]) {
    const stream = await startedStream(hub, topic, async (out) => {
      for (const text of writes) await out.write(text);
    });
    await stream.run;
    return stream;
  }

  it("hub.response closes after herald.end; resuming from any id at or past the end answers 204", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const stream = await finished(hub, "r", ["a", "b"]);
    const response = await hub.response(
      new Request("http://h/", { headers: { "last-event-id": stream.cursor } }),
      { topics: ["r"] },
    );
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /data: a\n\n[^]*data: b\n\n[^]*event: herald.end\n/);
    const endId = /event: herald.end\nid: (\S+)/.exec(text)![1];
    for (const lastEventId of [endId, undefined]) {
      const again = await hub.response(
        new Request("http://h/", { headers: lastEventId ? { "last-event-id": lastEventId } : {} }),
        { topics: ["r"] },
      );
      assert.equal(again.status, 204, `resuming from ${lastEventId ?? "now"}`);
      assert.equal(await again.text(), "");
    }
  });

  it("hub.subscribe ends after herald.end, and at once (empty) from the end", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const stream = await finished(hub, "s", ["a"]);
    const events = await readToEnd(hub, ["s"], stream.cursor);
    assert.deepEqual(dataOf(events), ["a", { status: "done" }]);
    assert.deepEqual(await readToEnd(hub, ["s"], events[1].id), []);
  });

  it("a reader that resumes mid-stream continues from the exact event", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    let release: (() => void) | undefined;
    const stream = await startedStream(hub, "mid", async (out) => {
      for (let n = 0; n < 5; n++) await out.write({ data: n });
      await new Promise<void>((resolve) => (release = resolve));
      for (let n = 5; n < 10; n++) await out.write({ data: n });
    }, { coalesceMs: 0 });
    const first = (await hub.subscribe({ topics: ["mid"], lastEventId: stream.cursor }))
      .getReader();
    const got = await take(first, 3);
    await first.cancel();
    release!();
    const rest = await readToEnd(hub, ["mid"], got[2].id);
    assert.deepEqual(dataOf(rest), [3, 4, 5, 6, 7, 8, 9, { status: "done" }]);
  });

  it("a subscription of a stream and an ordinary topic goes on after the stream's end", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const reader = (await hub.subscribe({ topics: ["news", "live-answer"] })).getReader();
    await take(reader, 1);
    const stream = await startedStream(hub, "live-answer", (out) => out.write("answer"));
    await stream.run;
    const got = await take(reader, 2);
    assert.deepEqual(dataOf(got), ["answer", { status: "done" }]);
    await hub.publish("news", { data: "later" });
    assert.deepEqual(dataOf(await take(reader, 1)), ["later"]);
    await reader.cancel();
  });

  it("onDeliver is told of each published event sent (replayed or live), never of herald.* events", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    let release: (() => void) | undefined;
    const stream = await startedStream(hub, "metered", async (out) => {
      await out.write("replayed");
      await new Promise<void>((resolve) => (release = resolve));
      await out.write("live");
    }, { coalesceMs: 0 });
    await until(() => release !== undefined, "the first write");
    await sleep(20);
    const seen: DeliveryInfo[] = [];
    const response = await hub.response(
      new Request("http://h/", { headers: { "last-event-id": stream.cursor } }),
      { topics: ["metered"], onDeliver: (info) => seen.push(info) },
    );
    const text = response.text();
    await until(() => seen.length === 1, "the replayed delivery");
    release!();
    await text;
    assert.deepEqual(seen.map((s) => [s.topic, s.replayed]), [["metered", true], [
      "metered",
      false,
    ]]);
    for (const info of seen) assert.ok(Math.abs(info.publishedAtMs - Date.now()) < 60_000);
  });
});

describe("hub.response: onDeliver on ordinary topics", () => {
  it("is told of live events with their topic, not of the id-only start or history-lost", async () => {
    const hub = createHub({ broker: new MemoryBroker({ maxEventsPerTopic: 1 }) });
    const start = (await take((await hub.subscribe({ topics: ["a", "b"] })).getReader(), 1))[0];
    await hub.publish("a", [{ data: 1 }, { data: 2 }]);
    const seen: DeliveryInfo[] = [];
    const controller = new AbortController();
    const response = await hub.response(
      new Request("http://h/", { headers: { "last-event-id": start.id! } }),
      { topics: ["a", "b"], signal: controller.signal, onDeliver: (info) => seen.push(info) },
    );
    const body = response.text();
    await until(() => seen.length === 1, "the replayed event");
    await hub.publish("b", { data: 3 });
    await until(() => seen.length === 2, "the live event");
    controller.abort();
    const text = await body;
    assert.match(text, /herald.history-lost/);
    assert.deepEqual(seen.map((s) => [s.topic, s.replayed]), [["a", true], ["b", false]]);
  });
});
