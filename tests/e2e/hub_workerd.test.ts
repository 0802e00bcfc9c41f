// The hub on Workers (workerd): with the MemoryBroker, a publish in one request wakes SSE
// subscribers in other requests; with the UpstashBroker, each SSE request opens its own upstream
// subscription (per-request mode), recovers from a dropped upstream, and its cursors resume on a
// host hub over the same store. Runs under the Bun host only (one workerd is enough).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Redis } from "@upstash/redis";
import { createHub } from "../../mod.ts";
import { UpstashBroker } from "../../src/adapters/upstash.ts";
import { runtime } from "../support/runtime.ts";
import { startUpstashRestServer, type UpstashRestServer } from "../support/upstash_rest_server.ts";
import { bundleForWorkerd, startWorkerd } from "../support/workerd_process.mjs";
import { type CollectingClient, jsonData, openCollecting, take, until } from "../hub_helpers.ts";

const here = dirname(fileURLToPath(import.meta.url));

// Under the Bun host: the Upstash REST test server on Deno.serve does not always notice a
// subscribe stream its client aborted (seen with mod.ts loaded), which would hide the check below.
describe("hub on workerd", { skip: runtime !== "bun" }, () => {
  let server: UpstashRestServer;
  let worker: Awaited<ReturnType<typeof startWorkerd>> | undefined;
  const clients: CollectingClient[] = [];

  before(async () => {
    server = await startUpstashRestServer();
    const module = bundleForWorkerd(
      join(here, "workers", "hub_worker.ts"),
      join(here, "..", ".out", "e2e-hub", "hub_worker.js"),
    );
    worker = await startWorkerd({
      module,
      flags: ["enable_request_signal"],
      bindings: { UPSTASH_URL: server.url, UPSTASH_TOKEN: server.token, PREFIX: "w" },
      allowLocalFetch: true,
    });
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    // workerd drains open requests on SIGTERM: don't wait for that forever.
    const stopped = await Promise.race([
      worker?.stop().then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 5_000)),
    ]);
    if (!stopped && worker) {
      try {
        process.kill(worker.pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    await server?.stop();
  });

  async function publish(kind: string, topic: string, events: unknown[]): Promise<string[]> {
    const response = await fetch(`${worker!.url}/${kind}/publish?topic=${topic}`, {
      method: "POST",
      body: JSON.stringify(events),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return await response.json();
  }

  it("MemoryBroker: a publish request wakes the subscribers of other requests", async () => {
    const subscribers: CollectingClient[] = [];
    for (let i = 0; i < 3; i++) {
      subscribers.push(await openCollecting(`${worker!.url}/memory/events?topic=m`));
    }
    clients.push(...subscribers);
    await until(() => subscribers.every((c) => c.lastEventId !== ""), "starting cursors");
    for (let n = 0; n < 20; n++) await publish("memory", "m", [{ data: n }]);
    await until(
      () => subscribers.every((c) => jsonData(c).length >= 20),
      () => `20 events each (${subscribers.map((c) => jsonData(c).length)})`,
    );
    for (const c of subscribers) assert.deepEqual(jsonData(c), [...Array(20).keys()]);
    // A reconnect with the cursor resumes exactly.
    const cursor = subscribers[0].lastEventId;
    await publish("memory", "m", [{ data: 20 }, { data: 21 }]);
    const resumed = await openCollecting(`${worker!.url}/memory/events?topic=m`, cursor);
    clients.push(resumed);
    await until(() => jsonData(resumed).length >= 2, "the two missed events");
    assert.deepEqual(jsonData(resumed), [20, 21]);
  });

  it("answers 400 for a forged cursor on Workers too", async () => {
    const response = await fetch(`${worker!.url}/memory/events?topic=m`, {
      headers: { "last-event-id": "h1.nope" },
    });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get("x-herald-error"), "malformed-cursor");
    await response.body?.cancel();
  });

  it("UpstashBroker: one upstream subscription per SSE request; every event once, through a drop", async () => {
    server.resetCounters();
    const subscribers: CollectingClient[] = [];
    for (let i = 0; i < 3; i++) {
      subscribers.push(await openCollecting(`${worker!.url}/upstash/events?topic=u`));
    }
    clients.push(...subscribers);
    await until(() => subscribers.every((c) => c.lastEventId !== ""), "starting cursors");
    assert.equal(server.counters.subscriptionsOpened, 3, "per request, as Workers require");
    for (let n = 0; n < 5; n++) await publish("upstash", "u", [{ data: n }]);
    await until(() => subscribers.every((c) => jsonData(c).length >= 5), "five events each");
    server.dropSubscriptions({ mode: "abort" });
    for (let n = 5; n < 10; n++) await publish("upstash", "u", [{ data: n }]);
    await until(
      () => subscribers.every((c) => jsonData(c).length >= 10),
      () => `ten events each (${subscribers.map((c) => jsonData(c).length)})`,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const c of subscribers) assert.deepEqual(jsonData(c), [...Array(10).keys()]);
    assert.ok(server.counters.subscriptionsOpened >= 6, "each request re-subscribed itself");
    // A client that leaves takes its request's upstream subscription with it.
    await Promise.all(subscribers.map((c) => c.close()));
    await until(
      () => server.openSubscriptions === 0,
      () => `upstream subscriptions closed (${server.openSubscriptions} open)`,
    );
  });

  it("a stream under ctx.waitUntil: its reader on another request keeps it running; once the reader leaves, it is cancelled as unwatched", async () => {
    const response = await fetch(
      `${worker!.url}/memory/stream?topic=idle-w&idleCancelMs=600&ticks=100000`,
      { method: "POST" },
    );
    const { started, cursor } = await response.json();
    assert.equal(started, true);
    const reader = await openCollecting(`${worker!.url}/memory/events?topic=idle-w`, cursor);
    clients.push(reader);
    // Longer than idleCancelMs: the reader's own presence timer reports it, in its own request.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const ticks = () => reader.messages.filter((m) => m.event === "tick").length;
    assert.ok(ticks() > 10, `still producing (${ticks()} ticks)`);
    assert.ok(!reader.messages.some((m) => m.event === "herald.end"), "not ended while read");
    await reader.close();
    // Watch the broker's state without becoming a reader (a reader would keep it running).
    await until(
      async () => {
        const state = await (await fetch(`${worker!.url}/memory/stream-state?topic=idle-w`)).json();
        return state?.end !== null;
      },
      "the stream to end once its reader left",
      20_000,
    );
    const replay = await openCollecting(`${worker!.url}/memory/events?topic=idle-w`, cursor);
    clients.push(replay);
    await replay.ended;
    const end = JSON.parse(replay.messages.at(-1)!.data);
    assert.deepEqual(end, { status: "cancelled", reason: "unwatched" });
    // From the end: 204, no body.
    const last = await fetch(`${worker!.url}/memory/events?topic=idle-w`);
    assert.equal(last.status, 204);
    await last.body?.cancel();
  });

  it("a cursor from workerd resumes exactly on a Bun hub over the same store", async () => {
    const first = await openCollecting(`${worker!.url}/upstash/events?topic=v`);
    clients.push(first);
    await until(() => first.lastEventId !== "", "a starting cursor");
    await publish("upstash", "v", [{ data: 1 }]);
    await until(() => jsonData(first).length === 1, "one event");
    await first.close();
    await publish("upstash", "v", [{ data: 2 }, { data: 3 }]);
    const broker = new UpstashBroker({
      redis: new Redis({ url: server.url, token: server.token, enableTelemetry: false }),
      prefix: "w",
    });
    try {
      const hub = createHub({ broker });
      const reader = (await hub.subscribe({ topics: ["v"], lastEventId: first.lastEventId }))
        .getReader();
      const got = await take(reader, 2);
      assert.deepEqual(got.map((e) => e.data), [2, 3]);
      await reader.cancel();
    } finally {
      broker.close();
    }
  });
});
