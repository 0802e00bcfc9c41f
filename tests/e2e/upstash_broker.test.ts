// The Upstash broker for real: the official `@upstash/redis` client, the Upstash REST test server
// (tests/support/upstash_rest_server.ts) and a private redis-server. Runs under Deno and Bun, each
// against its own servers. Request counts are asserted: every command is billed.
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { createHub, HISTORY_LOST_EVENT, type HistoryLost } from "../../mod.ts";
import { UpstashBroker, type UpstashBrokerOptions } from "../../src/adapters/upstash.ts";
import {
  APPEND_STREAM_SCRIPT,
  CANCEL_STREAM_SCRIPT,
  CLAIM_STREAM_SCRIPT,
  TOUCH_PRESENCE_SCRIPT,
} from "../../src/adapters/upstash_stream_scripts.ts";
import { readClaimReply } from "../../src/adapters/upstash_replies.ts";
import { READ_SCRIPT } from "../../src/adapters/upstash_scripts.ts";
import type { StreamAppend, StreamBroker } from "../../src/hub/broker.ts";
import { decodeCursor } from "../../src/hub/cursor.ts";
import { HubStreamError } from "../../src/hub/errors.ts";
import { STREAM_END_EVENT } from "../../src/hub/stream_end.ts";
import { startUpstashRestServer, type UpstashRestServer } from "../support/upstash_rest_server.ts";
import {
  brokerListenerContract,
  dataOf,
  endOf,
  expectedCount,
  lcgRandom,
  numberedBatch,
  pumpResuming,
  readToEnd,
  receivedCount,
  recordingListener,
  resubscribe,
  resumingClients,
  sleep,
  startedStream,
  staysQuiet,
  streamBrokerContract,
  take,
  until,
} from "../hub_helpers.ts";
import { runtime } from "../support/runtime.ts";

let server: UpstashRestServer;
let prefixCount = 0;
const brokers: UpstashBroker[] = [];

// Which stream script each EVAL ran, and how many keys it was given, as the REST server saw them.
const SCRIPT_NAMES = new Map([
  [CLAIM_STREAM_SCRIPT, "claim"],
  [APPEND_STREAM_SCRIPT, "append"],
  [CANCEL_STREAM_SCRIPT, "cancel"],
  [TOUCH_PRESENCE_SCRIPT, "presence"],
  [READ_SCRIPT, "read"],
]);
const scriptsRun: { name: string; keys: number }[] = [];
const runs = (name: string) => scriptsRun.filter((run) => run.name === name);

function redis(): Redis {
  return new Redis({ url: server.url, token: server.token, enableTelemetry: false });
}

/** A broker on its own key prefix (tests don't see each other's topics), closed after the file. */
function broker(options: Partial<UpstashBrokerOptions> = {}): UpstashBroker {
  const made = new UpstashBroker({
    redis: redis(),
    prefix: `hub${++prefixCount}`,
    pingIntervalMs: 150,
    pingTimeoutMs: 1_000,
    reconnectDelayMs: 20,
    ...options,
  });
  brokers.push(made);
  return made;
}

before(async () => {
  server = await startUpstashRestServer({
    onRequest(request) {
      for (const [command, script, keys] of request.commands) {
        if (command.toUpperCase() !== "EVAL") continue;
        scriptsRun.push({ name: SCRIPT_NAMES.get(script) ?? "other", keys: Number(keys) });
      }
    },
  });
});

// Every test's feeds end with it, so request counts of the next test are its own.
afterEach(() => {
  for (const made of brokers) made.close();
  brokers.length = 0;
});

after(async () => {
  await server?.stop();
});

describe("UpstashBroker publish", () => {
  it("stores a batch, trims and notifies in one EVAL: one request per publish", async () => {
    const hub = createHub({ broker: broker() });
    server.resetCounters();
    const ids = await hub.publish("t", Array.from({ length: 20 }, (_, n) => ({ data: n })));
    assert.equal(ids.length, 20);
    assert.equal(server.counters.requests, 1);
    assert.deepEqual(server.counters.byCommand, { EVAL: 1 });
  });
  it("answers BrokerError broker-unavailable when Upstash answers 5xx, storing nothing", async () => {
    const made = broker();
    server.failNext(1, 503);
    await assert.rejects(
      made.publish("t", [{ data: 1 }]),
      (e: unknown) => (e as { code?: string }).code === "broker-unavailable",
    );
    const read = await made.read([{ topic: "t", after: "0-0" }], 10);
    assert.equal(read.topics[0].entries.length, 0);
  });
});

describe("UpstashBroker resume and history", () => {
  it("resumes strictly after the cursor across topics, with exclusive XRANGE pages", async () => {
    const hub = createHub({ broker: broker(), replayPageSize: 4 });
    const first = (await hub.subscribe({ topics: ["a", "b"] })).getReader();
    const [start] = await take(first, 1);
    await first.cancel();
    for (let n = 0; n < 15; n++) await hub.publish(n % 3 ? "a" : "b", { data: n });
    const reader = (await hub.subscribe({ topics: ["a", "b"], lastEventId: start.id }))
      .getReader();
    const got = dataOf(await take(reader, 15)) as number[];
    assert.deepEqual(got.filter((n) => n % 3), [1, 2, 4, 5, 7, 8, 10, 11, 13, 14]);
    assert.deepEqual(got.filter((n) => n % 3 === 0), [0, 3, 6, 9, 12]);
    await hub.publish("a", { data: "live" });
    assert.deepEqual(dataOf(await take(reader, 1)), ["live"]);
    assert.equal(await staysQuiet(reader, 100), undefined);
    await reader.cancel();
  });
  it("sends herald.history-lost when MAXLEN trimmed past the cursor", async () => {
    const hub = createHub({ broker: broker({ maxEventsPerTopic: 3 }) });
    const fresh = (await hub.subscribe({ topics: ["t"] })).getReader();
    const [start] = await take(fresh, 1);
    await fresh.cancel();
    const ids = await hub.publish("t", [1, 2, 3, 4, 5].map((n) => ({ data: n })));
    const reader = (await hub.subscribe({ topics: ["t"], lastEventId: start.id })).getReader();
    const [lost, ...rest] = await take(reader, 4);
    assert.equal(lost.event, HISTORY_LOST_EVENT);
    assert.deepEqual(
      lost.data,
      {
        topic: "t",
        reason: "trimmed",
        requested: decodeCursor(start.id!, ["t"]).positions[0],
        resumedFrom: ids[2],
      } satisfies HistoryLost,
    );
    assert.deepEqual(dataOf(rest), [3, 4, 5]);
    await reader.cancel();
  });
  it("sends herald.history-lost when events expired by age (MINID)", async () => {
    const hub = createHub({ broker: broker({ maxAgeMs: 300 }) });
    const fresh = (await hub.subscribe({ topics: ["t"] })).getReader();
    const [start] = await take(fresh, 1);
    await fresh.cancel();
    await hub.publish("t", { data: "old" });
    await new Promise((resolve) => setTimeout(resolve, 600));
    await hub.publish("t", { data: "new" });
    const reader = (await hub.subscribe({ topics: ["t"], lastEventId: start.id })).getReader();
    const [lost, next] = await take(reader, 2);
    assert.equal((lost.data as HistoryLost).reason, "trimmed");
    assert.equal(next.data, "new");
    await reader.cancel();
  });
  it("sends herald.history-lost with reason reset when the store lost its epoch", async () => {
    const made = broker();
    const hub = createHub({ broker: made });
    const fresh = (await hub.subscribe({ topics: ["t"] })).getReader();
    await hub.publish("t", { data: "before" });
    const [, before] = await take(fresh, 2);
    await fresh.cancel();
    // A reset store: every key of the broker is gone (as after FLUSHALL or a new database).
    const client = redis();
    const prefix = `hub${prefixCount}`;
    await client.del(`${prefix}:epoch`, `${prefix}:t:t`);
    await hub.publish("t", { data: "after" });
    const reader = (await hub.subscribe({ topics: ["t"], lastEventId: before.id })).getReader();
    const [lost, next] = await take(reader, 2);
    assert.equal(lost.event, HISTORY_LOST_EVENT);
    assert.equal((lost.data as HistoryLost).reason, "reset");
    assert.equal(next.data, "after");
    await reader.cancel();
  });
});

describe("UpstashBroker live feed", () => {
  it("shares one subscribe stream among all local subscribers; requests don't grow with them", async () => {
    const made = broker({ pingIntervalMs: 60_000 });
    const hub = createHub({ broker: made });
    server.resetCounters();
    const readers = [];
    for (let i = 0; i < 40; i++) {
      readers.push((await hub.subscribe({ topics: [i % 2 ? "x" : "y", "z"] })).getReader());
    }
    assert.equal(server.counters.subscriptionsOpened, 1);
    // Per subscriber: one EVAL (its read); per isolate and topic: one EVAL when it first listens.
    assert.equal(server.counters.byCommand.EVAL, 40 + 3);
    server.resetCounters();
    for (let n = 0; n < 5; n++) await hub.publish("z", { data: n });
    for (const reader of readers) assert.deepEqual(dataOf(await take(reader, 6)), [0, 1, 2, 3, 4]);
    assert.equal(server.counters.requests, 5, "one request per publish, whatever the audience");
    assert.equal(server.counters.subscriptionsOpened, 0);
    for (const reader of readers) await reader.cancel();
  });
  for (const mode of ["close", "abort", "stall"] as const) {
    it(`re-subscribes and catches up when the upstream stream is dropped (${mode})`, async () => {
      const made = broker();
      const hub = createHub({ broker: made });
      const reader = (await hub.subscribe({ topics: ["t"] })).getReader();
      await take(reader, 1);
      await hub.publish("t", { data: 0 });
      assert.deepEqual(dataOf(await take(reader, 1)), [0]);
      const opened = made.feedStats.subscribes;
      server.dropSubscriptions({ mode });
      for (let n = 1; n <= 5; n++) await hub.publish("t", { data: n });
      assert.deepEqual(dataOf(await take(reader, 5)), [1, 2, 3, 4, 5]);
      await until(() => made.feedStats.subscribes > opened, "a new subscribe stream");
      await hub.publish("t", { data: 6 });
      assert.deepEqual(dataOf(await take(reader, 1)), [6]);
      assert.equal(await staysQuiet(reader, 200), undefined, "nothing twice");
      await reader.cancel();
    });
  }
  it("keeps retrying through 5xx answers while re-subscribing", async () => {
    const made = broker();
    const hub = createHub({ broker: made });
    const reader = (await hub.subscribe({ topics: ["t"] })).getReader();
    await take(reader, 1);
    server.dropSubscriptions({ mode: "abort" });
    await hub.publish("t", { data: "during" });
    server.failNext(3, 502);
    assert.deepEqual(dataOf(await take(reader, 1)), ["during"]);
    await reader.cancel();
  });
  it("tells subscribers (upstream-lost) when the feed can't come back, and they can resume", async () => {
    const made = broker({ maxReconnectAttempts: 1 });
    const hub = createHub({ broker: made });
    const reader = (await hub.subscribe({ topics: ["t"] })).getReader();
    const [start] = await take(reader, 1);
    server.failNext(1_000, 503);
    server.dropSubscriptions({ mode: "abort" });
    await assert.rejects(
      take(reader, 1, 15_000),
      (e: unknown) => (e as { code?: string }).code === "upstream-lost",
    );
    server.failNext(0);
    await hub.publish("t", { data: "later" });
    const resumed = (await hub.subscribe({ topics: ["t"], lastEventId: start.id })).getReader();
    assert.deepEqual(dataOf(await take(resumed, 1)), ["later"]);
    await resumed.cancel();
  });
  it("delivers by polling with live: poll (one EVAL per poll per isolate)", async () => {
    const made = broker({ live: "poll", pollIntervalMs: 50 });
    const hub = createHub({ broker: made });
    const readers = [];
    for (let i = 0; i < 5; i++) readers.push((await hub.subscribe({ topics: ["p"] })).getReader());
    server.resetCounters();
    await hub.publish("p", [{ data: 1 }, { data: 2 }]);
    for (const reader of readers) assert.deepEqual(dataOf(await take(reader, 3)), [1, 2]);
    assert.equal(server.counters.subscriptionsOpened, 0);
    const polls = made.feedStats.polls;
    assert.ok(
      server.counters.byCommand.EVAL <= 1 + polls + 1,
      "one EVAL per poll, not per subscriber",
    );
    for (const reader of readers) await reader.cancel();
  });
  it("opens one stream per listener with shareFeed: false (the Workers mode)", async () => {
    const made = broker({ shareFeed: false });
    const hub = createHub({ broker: made });
    const openBefore = server.openSubscriptions;
    server.resetCounters();
    const readers = [];
    for (let i = 0; i < 3; i++) readers.push((await hub.subscribe({ topics: ["w"] })).getReader());
    assert.equal(server.counters.subscriptionsOpened, 3);
    await hub.publish("w", { data: "x" });
    for (const reader of readers) assert.deepEqual(dataOf(await take(reader, 2)), ["x"]);
    for (const reader of readers) await reader.cancel();
    await until(() => made.openFeeds === 0, "every per-listener feed closed");
    if (runtime === "bun") {
      // On Deno the in-process Deno.serve does not always see these aborts (see the hub notes).
      await until(
        () => server.openSubscriptions <= openBefore,
        () => `streams closed (${server.openSubscriptions} open, ${openBefore} before)`,
      );
    }
  });
});

describe("UpstashBroker unlisten: the feed follows its listeners", () => {
  it("the shared feed stays while a listener is left, and stops idleLingerMs after the last left", async () => {
    const made = broker({ idleLingerMs: 300 });
    const [a, b] = [recordingListener(["t"]), recordingListener(["t"])];
    await made.listen(a);
    await made.listen(b);
    made.unlisten(a);
    await made.publish("t", [{ data: "still" }]);
    await until(() => b.data.length === 1, "the listener left to get the entry");
    assert.equal(made.openFeeds, 1);
    made.unlisten(b);
    assert.equal(made.openFeeds, 1, "lingering");
    await until(() => made.openFeeds === 0, "the feed to stop after its linger");
    assert.deepEqual(a.data, []);
  });

  it("a topic whose last listener left is no longer read at catch-up", async () => {
    const made = broker();
    const [onT, onU] = [recordingListener(["t"]), recordingListener(["u"])];
    await made.listen(onT);
    await made.listen(onU);
    made.unlisten(onT);
    const catchUps = made.feedStats.catchUpReads;
    scriptsRun.length = 0;
    server.dropSubscriptions({ mode: "close" });
    await made.publish("u", [{ data: "during" }]);
    await until(() => onU.data.length === 1, "the entry, by the stream or the catch-up");
    await until(() => made.feedStats.catchUpReads > catchUps, "a catch-up read");
    // Each catch-up read's keys: the epoch, then two per topic read (u only).
    assert.ok(runs("read").length > 0);
    assert.deepEqual(runs("read").map((run) => run.keys), runs("read").map(() => 3));
    made.unlisten(onU);
  });

  it("a feed of its own stops at once when its listener leaves during listen (no wait for the subscribe confirmation's timeout)", async () => {
    const made = broker({ shareFeed: false, pingTimeoutMs: 20_000 });
    const listener = recordingListener(["t"]);
    let settled = false;
    const pending = made.listen(listener).catch(() => {}).finally(() => (settled = true));
    made.unlisten(listener);
    assert.equal(made.openFeeds, 0);
    // Half the confirmation timeout: a feed that waited it out would fail this.
    await until(() => settled, "the pending listen to settle", 10_000);
    await pending;
    await made.publish("t", [{ data: "unheard" }]);
    const witness = recordingListener(["t"]);
    await made.listen(witness);
    await made.publish("t", [{ data: "heard" }]);
    await until(() => witness.data.includes("heard"), "the witness");
    assert.equal(listener.calls, 0);
    made.unlisten(witness);
    await until(() => made.openFeeds === 0, "every feed closed");
  });
});

describe("UpstashBroker property: random disconnects, resumes and upstream drops", () => {
  it("every client gets every event of its topics exactly once, in order per topic", async () => {
    const random = lcgRandom(0xc0ffee);
    const topics = ["p0", "p1", "p2", "p3"];
    const totalEvents = 10_000;
    const made = broker({
      maxEventsPerTopic: totalEvents,
      pingIntervalMs: 100,
      pingTimeoutMs: 500,
    });
    const hub = createHub({ broker: made, replayPageSize: 200 });
    const clients = resumingClients(topics, 6);
    for (const client of clients) await resubscribe(hub, client);
    const counters = new Map(topics.map((t) => [t, 0]));
    let published = 0;
    const allDone = () =>
      published >= totalEvents &&
      clients.every((c) => receivedCount(c) >= expectedCount(c, counters));
    const pumps = clients.map((client) =>
      pumpResuming(hub, client, { done: allDone, dropChance: 0.004, random })
    );
    let drops = 0;
    let subscribesAtDrop = 0;
    const started = Date.now();
    while (published < totalEvents) {
      const topic = topics[Math.floor(random() * topics.length)];
      const batch = Math.min(1 + Math.floor(random() * 8), totalEvents - published);
      await hub.publish(topic, numberedBatch(topic, batch, counters));
      published += batch;
      // A drop only once the feed has re-subscribed since the last one, so each drop is felt.
      if (random() < 0.02 && made.feedStats.subscribes > subscribesAtDrop) {
        subscribesAtDrop = made.feedStats.subscribes;
        server.dropSubscriptions({ mode: (["close", "abort", "stall"] as const)[drops % 3] });
        drops++;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await until(allDone, "every client to receive every event", 90_000);
    for (const client of clients) await client.reader!.cancel();
    await Promise.all(pumps);
    for (const client of clients) {
      for (const topic of client.topics) {
        const expectedList = Array.from({ length: counters.get(topic)! }, (_, n) => n);
        assert.deepEqual(
          client.seen.get(topic) ?? [],
          expectedList,
          `${client.topics} on ${topic}`,
        );
      }
    }
    const reconnects = clients.reduce((sum, c) => sum + c.reconnects, 0);
    assert.ok(reconnects > 5, `clients reconnected (${reconnects})`);
    assert.ok(drops >= 5, `upstream dropped ${drops} times`);
    // Every drop was noticed: the feed subscribed again after the last one too.
    await until(
      () => made.feedStats.subscribes > subscribesAtDrop,
      "a subscribe after the last drop",
    );
    console.log(
      `upstash property: ${totalEvents} events, ${reconnects} client resumes, ${drops} upstream ` +
        `drops, ${made.feedStats.reconnects} re-subscribes, ${Date.now() - started} ms`,
    );
  });
});

streamBrokerContract("UpstashBroker", () => broker());
brokerListenerContract("UpstashBroker, shared feed", () => broker({ idleLingerMs: 50 }));
brokerListenerContract("UpstashBroker, a feed per listener", () => broker({ shareFeed: false }));

/** A broker whose appends wait while frozen, as when the producer's process stalls. */
function freezable(inner: UpstashBroker) {
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const wrapped: StreamBroker = {
    publish: (topic, events) => inner.publish(topic, events),
    read: (requests, limit) => inner.read(requests, limit),
    listen: (listener) => inner.listen(listener),
    unlisten: (listener) => inner.unlisten(listener),
    claimStream: (topic, options) => inner.claimStream(topic, options),
    async appendStream(topic, fence, events, options): Promise<StreamAppend> {
      if (gate) await gate;
      return await inner.appendStream(topic, fence, events, options);
    },
    cancelStream: (topic, reason) => inner.cancelStream(topic, reason),
    touchPresence: (touch) => inner.touchPresence(touch),
    watchCancel: (topic, watcher) => inner.watchCancel(topic, watcher),
  };
  return {
    broker: wrapped,
    freeze: () => (gate = new Promise((resolve) => (open = resolve))),
    thaw: () => {
      gate = undefined;
      open?.();
    },
  };
}

describe("UpstashBroker resumable streams", () => {
  it("a flush is one request: 400 writes with coalesceMs 50 cost one append EVAL per window, not one per write", async () => {
    const hub = createHub({ broker: broker() });
    server.resetCounters();
    scriptsRun.length = 0;
    const startedAtMs = Date.now();
    const stream = await startedStream(hub, "cost", async (out) => {
      for (let n = 0; n < 400; n++) {
        await out.write({ event: "token", data: { n } });
        if (n % 40 === 39) await sleep(50);
      }
    }, { coalesceMs: 50 });
    await stream.run;
    const elapsedMs = Date.now() - startedAtMs;
    const appends = runs("append").length;
    assert.equal(runs("claim").length, 1);
    assert.ok(appends >= 2, `${appends} appends`);
    assert.ok(appends <= Math.ceil(elapsedMs / 50) + 3, `${appends} appends in ${elapsedMs} ms`);
    assert.ok(appends <= 40, `${appends} appends for 400 writes`);
    assert.equal(server.counters.byCommand.EVAL, 1 + appends, "no other command per write");
    const events = await readToEnd(hub, ["cost"], stream.cursor);
    assert.deepEqual(
      events.slice(0, -1).map((e) => (e.data as { n: number }).n),
      Array.from({ length: 400 }, (_, n) => n),
    );
    assert.equal(new Set(events.map((e) => e.id)).size, 401, "each write is its own event");
    assert.deepEqual(endOf(events), { status: "done" });
    // Resuming from the end answers 204: the browser's EventSource stops there.
    const response = await hub.response(
      new Request("http://h/", { headers: { "last-event-id": events[400].id! } }),
      { topics: ["cost"] },
    );
    assert.equal(response.status, 204);
  });

  it("one producer for 20 concurrent calls from two isolates", async () => {
    const prefix = `shared${++prefixCount}`;
    const hubs = [
      createHub({ broker: broker({ prefix }) }),
      createHub({ broker: broker({ prefix }) }),
    ];
    let runsOfProduce = 0;
    const calls = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        hubs[i % 2].startStream("one", async (out) => {
          runsOfProduce++;
          await out.write("once");
        })),
    );
    assert.equal(calls.filter((c) => c.started).length, 1);
    assert.equal(new Set(calls.map((c) => c.cursor)).size, 1);
    assert.deepEqual(dataOf(await readToEnd(hubs[1], ["one"], calls[0].cursor)), ["once", {
      status: "done",
    }]);
    assert.equal(runsOfProduce, 1);
  });

  it("cancel from another isolate reaches the producer by the live channel's notice, long before a heartbeat", async () => {
    const prefix = `shared${++prefixCount}`;
    const producing = broker({ prefix });
    const producer = createHub({ broker: producing });
    const other = createHub({ broker: broker({ prefix }) });
    let abortedAtMs = 0;
    let reason: unknown;
    // A 30 s lease: the heartbeat (every 10 s) can't be what carries the cancel here.
    const stream = await startedStream(producer, "stop-me", async (out) => {
      await out.write("before");
      await new Promise((resolve) => out.signal.addEventListener("abort", resolve));
      abortedAtMs = Date.now();
      reason = out.signal.reason;
    }, { leaseMs: 30_000, coalesceMs: 0 });
    await until(() => producing.feedStats.subscribes > 0 && producing.openFeeds > 0, "the feed");
    const watching = (await other.subscribe({ topics: ["stop-me"], lastEventId: stream.cursor }))
      .getReader();
    await take(watching, 1);
    await watching.cancel();
    await sleep(100);
    scriptsRun.length = 0;
    const cancelledAtMs = Date.now();
    assert.equal(await other.cancelStream("stop-me", "stop button"), true);
    await until(() => abortedAtMs > 0, "the producer's signal to abort", 5_000);
    const noticeMs = abortedAtMs - cancelledAtMs;
    assert.ok(noticeMs < 2_000, `the producer heard of the cancel after ${noticeMs} ms`);
    assert.ok(reason instanceof HubStreamError && reason.reason === "stop button");
    await stream.run;
    assert.deepEqual(endOf(await readToEnd(other, ["stop-me"], stream.cursor)), {
      status: "cancelled",
      reason: "stop button",
    });
    assert.equal(runs("cancel").length, 1);
  });

  it("a stalled producer is ended lost once by a reader's isolate; when it wakes it can't write", async () => {
    const prefix = `shared${++prefixCount}`;
    const frozen = freezable(broker({ prefix }));
    const producer = createHub({ broker: frozen.broker, logger: { error() {} } });
    const reading = createHub({ broker: broker({ prefix }), presenceIntervalMs: 100 });
    let woke: unknown;
    const stream = await startedStream(producer, "stalls", async (out) => {
      await out.write("before the stall");
      await new Promise((resolve) => out.signal.addEventListener("abort", resolve));
      woke = out.signal.reason;
    }, { leaseMs: 500, coalesceMs: 0, logger: { error() {} } });
    const reader = (await reading.subscribe({ topics: ["stalls"], lastEventId: stream.cursor }))
      .getReader();
    assert.deepEqual(dataOf(await take(reader, 1)), ["before the stall"]);
    frozen.freeze();
    const frozenAtMs = Date.now();
    const [end] = await take(reader, 1, 15_000);
    const lostAfterMs = Date.now() - frozenAtMs;
    assert.deepEqual([end.event, end.data], [STREAM_END_EVENT, { status: "lost" }]);
    assert.ok(lostAfterMs < 500 + 2_000 + 3_000, `lost after ${lostAfterMs} ms`);
    assert.equal((await reader.read()).done, true);
    frozen.thaw();
    await stream.run;
    assert.ok(woke instanceof HubStreamError && woke.code === "lease-lost", String(woke));
    const all = await readToEnd(reading, ["stalls"], stream.cursor);
    assert.deepEqual(
      dataOf(all),
      ["before the stall", { status: "lost" }],
      "lost once, nothing after",
    );
  });

  it("presence costs one request per isolate per interval for all its stream topics, whatever the readers", async () => {
    const prefix = `shared${++prefixCount}`;
    const producer = createHub({ broker: broker({ prefix }) });
    const reading = createHub({ broker: broker({ prefix }), presenceIntervalMs: 200 });
    const streams = [];
    for (let k = 0; k < 4; k++) {
      streams.push(
        await startedStream(producer, `watched-${k}`, async (out) => {
          await out.write("hello");
          await new Promise((resolve) => out.signal.addEventListener("abort", resolve));
        }, { leaseMs: 60_000, coalesceMs: 0 }),
      );
    }
    const readers = [];
    for (const [k, stream] of streams.entries()) {
      for (let r = 0; r < 3; r++) {
        const reader =
          (await reading.subscribe({ topics: [`watched-${k}`], lastEventId: stream.cursor }))
            .getReader();
        await take(reader, 1);
        readers.push(reader);
      }
    }
    await sleep(300);
    scriptsRun.length = 0;
    await sleep(1_000);
    const touches = runs("presence");
    assert.ok(
      touches.length >= 2 && touches.length <= 8,
      `${touches.length} presence reports in 1 s`,
    );
    for (const touch of touches) assert.equal(touch.keys, 4 * 3, "all four topics in each report");
    assert.equal(scriptsRun.length, touches.length, "nothing else: no request per reader");
    for (const reader of readers) await reader.cancel();
    for (const [k] of streams.entries()) await producer.cancelStream(`watched-${k}`);
    await Promise.all(streams.map((s) => s.run));
  });

  it("a claim the client sends again after a lost reply gets its fence again (one producer still)", async () => {
    const prefix = `shared${++prefixCount}`;
    const client = redis();
    const keys = [`${prefix}:epoch`, `${prefix}:t:again`, `${prefix}:s:again`, `${prefix}:p:again`];
    const args = ["ep0ch", "fence-1", "hub-a", "5000", "60000", `${prefix}:live`, '"again"', "0"];
    const first = readClaimReply(await client.eval(CLAIM_STREAM_SCRIPT, keys, args));
    const retried = readClaimReply(await client.eval(CLAIM_STREAM_SCRIPT, keys, args));
    assert.equal(first.fence, "fence-1");
    assert.equal(retried.fence, "fence-1", "the same claim, sent twice, is one claim");
    const other = readClaimReply(
      await client.eval(CLAIM_STREAM_SCRIPT, keys, ["ep0ch", "fence-2", "hub-b", ...args.slice(3)]),
    );
    assert.equal(other.fence, undefined, "another claim gets none");
  });

  it("an ended stream's keys expire ttlMs after its end (PEXPIRE)", async () => {
    const prefix = `shared${++prefixCount}`;
    const hub = createHub({ broker: broker({ prefix }) });
    const stream = await startedStream(hub, "short", (out) => out.write("x"), { ttlMs: 400 });
    await stream.run;
    const client = redis();
    const keys = [`${prefix}:t:short`, `${prefix}:s:short`];
    for (const key of keys) {
      const ttl = await client.pttl(key);
      assert.ok(ttl > 0 && ttl <= 400, `${key} expires in ${ttl} ms`);
    }
    await sleep(700);
    assert.equal(await client.exists(...keys, `${prefix}:p:short`), 0);
  });
});
