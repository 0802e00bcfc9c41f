// The reference server with the Upstash broker, on three runtimes at once: a Deno process, a Bun
// process and a workerd process, all on one Upstash REST server (the test stand-in in front of a
// private redis-server). Runs under the Deno host only: every server is its own process anyway.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { signToken } from "../../examples/server/jwt.ts";
import { type EventStream, openEvents, publishEvents } from "../support/reference_client.ts";
import {
  type ReferenceServer,
  type ServerRuntime,
  startReferenceServer,
} from "../support/reference_server.ts";
import { runtime } from "../support/runtime.ts";
import { startUpstashRestServer, type UpstashRestServer } from "../support/upstash_rest_server.ts";

const SECRET = "upstash-test-secret-0123456789-abcdefg";
const KEY = "upstash-test-publisher-key-0123456789";
const RUNTIMES: ServerRuntime[] = ["deno", "bun", "workerd"];

describe("the reference server on Deno, Bun and workerd sharing one Upstash", {
  skip: runtime !== "deno",
  timeout: 180_000,
}, () => {
  let rest: UpstashRestServer;
  const servers = new Map<ServerRuntime, ReferenceServer>();
  const streams: EventStream[] = [];
  let token: string;

  before(async () => {
    rest = await startUpstashRestServer();
    const env = {
      HERALD_DEV_MODE: "false",
      HERALD_JWT_SECRET: SECRET,
      HERALD_PUBLISHER_KEYS: KEY,
      HERALD_KEEP_ALIVE_MS: "1000",
      UPSTASH_REDIS_REST_URL: rest.url,
      UPSTASH_REDIS_REST_TOKEN: rest.token,
    };
    const started = await Promise.all(RUNTIMES.map((r) => startReferenceServer(r, { env })));
    started.forEach((server) => servers.set(server.runtime, server));
    token = await signToken(
      { topics: ["shared.*"], exp: Math.floor(Date.now() / 1000) + 600 },
      SECRET,
    );
  });
  after(async () => {
    for (const s of streams) s.close();
    await Promise.all([...servers.values()].map((s) => s.stop()));
    await rest?.stop();
  });

  const url = (r: ServerRuntime) => servers.get(r)!.url;
  const auth = (extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${token}`,
    ...extra,
  });

  it("reports the Upstash broker in /healthz on every runtime", async () => {
    for (const r of RUNTIMES) {
      const body = await (await fetch(`${url(r)}/healthz`)).json();
      assert.deepEqual([r, body.status, body.broker], [r, "ok", "upstash"]);
    }
  });

  it("delivers an event published on any runtime to subscribers on all three, once each", async () => {
    const topic = "shared.fanout";
    const subscribers = await Promise.all(
      RUNTIMES.map((r) => openEvents(url(r), `topic=${topic}`, auth())),
    );
    streams.push(...subscribers);
    for (const publisher of RUNTIMES) {
      await publishEvents(url(publisher), topic, { data: `from ${publisher}` }, KEY);
    }
    for (const [i, s] of subscribers.entries()) {
      const got = [(await s.next()).data, (await s.next()).data, (await s.next()).data];
      assert.deepEqual(got, RUNTIMES.map((p) => `from ${p}`), `subscriber on ${RUNTIMES[i]}`);
      await assert.rejects(s.next(300), /no event/, "nothing more: each event arrived once");
    }
  });

  it("resumes a client on another runtime exactly after its last event, by a signed cursor", async () => {
    const topic = "shared.resume";
    const first = await openEvents(url("deno"), `topic=${topic}`, auth());
    streams.push(first);
    await publishEvents(url("deno"), topic, [{ data: "e1" }, { data: "e2" }], KEY);
    const e1 = await first.next();
    assert.equal(e1.data, "e1");
    // Signed with the key each server derives from the JWT secret they share: accepted by all.
    assert.match(e1.lastEventId, /~[A-Za-z0-9_-]+$/);
    first.close();
    await publishEvents(url("workerd"), topic, { data: "e3" }, KEY);

    const onBun = await openEvents(
      url("bun"),
      `topic=${topic}`,
      auth({
        "last-event-id": e1.lastEventId,
      }),
    );
    streams.push(onBun);
    const e2 = await onBun.next();
    assert.deepEqual([e2.data, (await onBun.next()).data], ["e2", "e3"]);
    onBun.close();

    const onWorkerd = await openEvents(
      url("workerd"),
      `topic=${topic}`,
      auth({
        "last-event-id": e2.lastEventId,
      }),
    );
    streams.push(onWorkerd);
    assert.equal((await onWorkerd.next()).data, "e3");
    await publishEvents(url("bun"), topic, { data: "e4" }, KEY);
    assert.equal((await onWorkerd.next()).data, "e4");
    onWorkerd.close();
  });

  // Last: the injected failures may land on any runtime's requests.
  it("answers 503 broker-error while Upstash fails, counts it in /metrics, and recovers", async () => {
    for (const r of RUNTIMES) {
      rest.failNext(1, 500);
      const response = await fetch(`${url(r)}/v1/topics/shared.failing`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: '{"data":"x"}',
      });
      const body = await response.json();
      assert.deepEqual([r, response.status, body.error?.code], [r, 503, "broker-error"]);
      assert.ok(response.headers.get("retry-after"));
      const metrics = await (await fetch(`${url(r)}/metrics`)).text();
      assert.match(metrics, /^herald_broker_errors_total [1-9]\d*$/m, r);
      const ids = await publishEvents(url(r), "shared.failing", { data: "again" }, KEY);
      assert.equal(ids.length, 1, `${r} publishes again once Upstash answers`);
    }
  });
});
