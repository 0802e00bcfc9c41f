// The Upstash broker for real: the official `@upstash/redis` client, the Upstash REST test server
// (tests/support/upstash_rest_server.ts) and a private redis-server. Runs under Deno and Bun, each
// against its own servers. Request counts are asserted: every command is billed.
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { createHub, decodeCursor, HISTORY_LOST_EVENT, type HistoryLost } from "../../mod.ts";
import { UpstashBroker, type UpstashBrokerOptions } from "../../src/adapters/upstash.ts";
import { startUpstashRestServer, type UpstashRestServer } from "../support/upstash_rest_server.ts";
import {
  dataOf,
  expectedCount,
  lcgRandom,
  pumpResuming,
  receivedCount,
  resubscribe,
  resumingClients,
  staysQuiet,
  take,
  until,
} from "../hub_helpers.ts";
import { runtime } from "../support/runtime.ts";

let server: UpstashRestServer;
let prefixCount = 0;
const brokers: UpstashBroker[] = [];

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
  server = await startUpstashRestServer();
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
      const events = [];
      for (let k = 0; k < batch; k++) {
        const n = counters.get(topic)!;
        counters.set(topic, n + 1);
        events.push({ data: { topic, n } });
      }
      await hub.publish(topic, events);
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
