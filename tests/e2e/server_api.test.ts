// The reference server's API, end to end, on the runtime of the host (Deno under `deno test`,
// Bun under `bun test`) and on workerd (under the Deno host only, to save time): the real entry
// files started as processes, talked to over loopback with fetch and Herald's parser.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { SSEMessage } from "@herald/sse";
import { eventStreamOf } from "../support/reference_client.ts";
import { answerTokens } from "../../examples/server/ai_answer.ts";
import { signToken, type TokenClaims } from "../../examples/server/jwt.ts";
import { runtime } from "../support/runtime.ts";
import {
  type ReferenceServer,
  type ServerRuntime,
  startReferenceServer,
} from "../support/reference_server.ts";

const SECRET = "api-test-secret-0123456789-abcdefghij";
const MAIN_KEY = "api-test-publisher-key-main-0123456789";
const RATE_KEY = "api-test-publisher-key-rate-0123456789";
const ALLOWED_ORIGIN = "http://allowed.test";

/** The main server: generous limits, small size limits, CORS with credentials for one origin.
 * Subscribe rates and failed-authentication throttling are out of the way here (the security
 * tests reach them). */
const MAIN_ENV: Record<string, string> = {
  HERALD_DEV_MODE: "false",
  HERALD_JWT_SECRET: SECRET,
  HERALD_PUBLISHER_KEYS: `${MAIN_KEY},${RATE_KEY}`,
  HERALD_TRUST_PROXY: "true",
  HERALD_KEEP_ALIVE_MS: "500",
  HERALD_RETRY_MS: "200",
  HERALD_MAX_TOPICS_PER_SUBSCRIPTION: "3",
  HERALD_MAX_EVENT_BYTES: "1024",
  HERALD_MAX_CONNECTIONS_PER_TOKEN: "2",
  HERALD_MAX_CONNECTIONS_PER_ADDRESS: "3",
  HERALD_PUBLISH_RATE_PER_SECOND: "50",
  HERALD_PUBLISH_BURST: "200",
  HERALD_DEMO_TOKEN_MS: "3",
  HERALD_CORS_ORIGINS: ALLOWED_ORIGIN,
  HERALD_CORS_CREDENTIALS: "true",
  HERALD_SUBSCRIBE_BURST: "1000",
  HERALD_ADDRESS_SUBSCRIBE_BURST: "1000",
  HERALD_AUTH_FAILURE_BURST: "1000",
};

/** The rate-limit server: a burst of 5 publishes per key, refilled very slowly. */
const RATE_ENV: Record<string, string> = {
  ...MAIN_ENV,
  HERALD_PUBLISH_RATE_PER_SECOND: "0.01",
  HERALD_PUBLISH_BURST: "5",
};

const READ_TIMEOUT_MS = 10_000;
let nextAddress = 1;
/** A fresh client address per subscription (HERALD_TRUST_PROXY reads X-Forwarded-For), so the
 * per-address limit of one test never touches another. */
const freshAddress = () => `198.51.100.${nextAddress++ % 250}`;

function mint(claims: Partial<TokenClaims> & { topics: string[] }, secret = SECRET) {
  const exp = Math.floor(Date.now() / 1000) + 600;
  return signToken({ exp, ...claims, iat: Date.now() + Math.random() }, secret);
}

interface Stream {
  response: Response;
  next(timeoutMs?: number): Promise<SSEMessage>;
  close(): void;
}

interface Refusal {
  status: number;
  code: string;
  message: string;
  headers: Headers;
}

/** Opens `/v1/events`; resolves with a stream for a 200, or the refusal's status and body. */
async function subscribe(
  server: ReferenceServer,
  query: string,
  init: { token?: string; headers?: Record<string, string>; address?: string } = {},
): Promise<Stream | Refusal> {
  const controller = new AbortController();
  const headers: Record<string, string> = {
    "x-forwarded-for": init.address ?? freshAddress(),
    ...init.headers,
  };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(`${server.url}/v1/events?${query}`, {
    headers,
    signal: controller.signal,
  });
  if (response.status !== 200) {
    const body = await response.json();
    return { status: response.status, ...body.error, headers: response.headers };
  }
  assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
  const stream = eventStreamOf(response, controller);
  return { ...stream, next: (timeoutMs = READ_TIMEOUT_MS) => stream.next(timeoutMs) };
}

function stream(result: Stream | Refusal): Stream {
  if ("status" in result) {
    throw new Error(`expected a stream, got ${result.status} ${result.code}: ${result.message}`);
  }
  return result;
}

function refusal(result: Stream | Refusal): Refusal {
  if (!("status" in result)) {
    result.close();
    throw new Error("expected a refusal, got a stream");
  }
  return result;
}

/** A publish answer: `{ topic, ids }` or `{ error: { code, message } }`. */
interface PublishBody {
  topic?: string;
  ids?: string[];
  error?: { code: string; message: string };
}
interface PublishResult {
  status: number;
  body: PublishBody;
  headers: Headers;
}

async function publish(
  server: ReferenceServer,
  topic: string,
  body: unknown,
  key = MAIN_KEY,
): Promise<PublishResult> {
  const response = await fetch(`${server.url}/v1/topics/${encodeURIComponent(topic)}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

async function published(server: ReferenceServer, topic: string, body: unknown, key = MAIN_KEY) {
  const result = await publish(server, topic, body, key);
  assert.equal(result.status, 200, JSON.stringify(result.body));
  return result.body.ids!;
}

/** Retries `fn` until it stops throwing (a server notices a disconnect asynchronously). */
async function eventually<T>(fn: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

let topicCounter = 0;
const freshTopic = (prefix = "t") =>
  `${prefix}.${runtime}.${Date.now().toString(36)}${topicCounter++}`;

function apiSuite(target: ServerRuntime): void {
  describe(`reference server API on ${target}`, { timeout: 180_000 }, () => {
    let server: ReferenceServer;
    let rateServer: ReferenceServer;
    const open: Stream[] = [];
    const keep = (s: Stream) => (open.push(s), s);

    before(async () => {
      [server, rateServer] = await Promise.all([
        startReferenceServer(target, { env: MAIN_ENV }),
        startReferenceServer(target, { env: RATE_ENV }),
      ]);
    });
    after(async () => {
      for (const s of open) s.close();
      await Promise.all([server?.stop(), rateServer?.stop()]);
    });

    it("answers /healthz with the broker it uses", async () => {
      const response = await fetch(`${server.url}/healthz`);
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.status, "ok");
      assert.equal(body.broker, "memory");
    });

    it("delivers published events, single and batched, with ids and event names", async () => {
      const topic = freshTopic();
      const s = keep(stream(
        await subscribe(server, `topic=${topic}`, {
          token: await mint({ topics: [topic] }),
        }),
      ));
      const first = await published(server, topic, { data: { n: 1 } });
      const batch = await published(server, topic, [{ event: "greet", data: "hi" }, {
        data: " leading space",
      }]);
      assert.equal(first.length, 1);
      assert.equal(batch.length, 2);
      const got = [await s.next(), await s.next(), await s.next()];
      assert.deepEqual(got.map((m) => [m.event, m.data]), [
        ["message", '{"n":1}'],
        ["greet", "hi"],
        ["message", " leading space"],
      ]);
      assert.equal(new Set(got.map((m) => m.id)).size, 3, "every event has its own id");
      s.close();
    });

    it("resumes strictly after Last-Event-ID (header) and lastEventId (query)", async () => {
      const topic = freshTopic();
      // A token per connection: this test is about resuming, not the per-token limit (2), and a
      // closed stream frees its slot only once the server notices (on workerd, at its next write).
      const token = await mint({ topics: [topic] });
      const s = stream(await subscribe(server, `topic=${topic}`, { token }));
      await published(server, topic, [{ data: "a" }, { data: "b" }, { data: "c" }]);
      await s.next();
      const b = await s.next();
      assert.equal(b.data, "b");
      await s.next();
      s.close();
      await published(server, topic, { data: "d" });
      const byHeader = keep(stream(
        await subscribe(server, `topic=${topic}`, {
          token: await mint({ topics: [topic] }),
          headers: { "last-event-id": b.lastEventId },
        }),
      ));
      assert.deepEqual([(await byHeader.next()).data, (await byHeader.next()).data], ["c", "d"]);
      byHeader.close();
      const byQuery = keep(stream(
        await subscribe(
          server,
          `topic=${topic}&lastEventId=${encodeURIComponent(b.lastEventId)}`,
          { token: await mint({ topics: [topic] }) },
        ),
      ));
      assert.deepEqual([(await byQuery.next()).data, (await byQuery.next()).data], ["c", "d"]);
      byQuery.close();
    });

    it("resumes a subscription to several topics from one id", async () => {
      const [x, y] = [freshTopic("x"), freshTopic("y")];
      const token = await mint({ topics: [x, y] });
      const s = stream(await subscribe(server, `topic=${x}&topic=${y}`, { token }));
      await published(server, x, { data: "x1" });
      await published(server, y, { data: "y1" });
      assert.equal((await s.next()).data, "x1");
      const y1 = await s.next();
      assert.equal(y1.data, "y1");
      s.close();
      await published(server, x, { data: "x2" });
      await published(server, y, { data: "y2" });
      const again = keep(stream(
        await subscribe(server, `topic=${y}&topic=${x}`, {
          token,
          headers: { "last-event-id": y1.lastEventId },
        }),
      ));
      const data = [(await again.next()).data, (await again.next()).data].sort();
      assert.deepEqual(data, ["x2", "y2"]);
      again.close();
    });

    it("streams the AI answer demo token by token, resumable from any token, then ends", async () => {
      const started = await fetch(`${server.url}/v1/demo/answers`, {
        method: "POST",
        headers: { authorization: `Bearer ${MAIN_KEY}`, "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(started.status, 201);
      const { topic, cursor } = await started.json();
      const token = await mint({ topics: ["answer.*"] });
      const expected = answerTokens();
      const s = stream(
        await subscribe(server, `topic=${topic}`, {
          token,
          headers: { "last-event-id": cursor },
        }),
      );
      const half = Math.floor(expected.length / 2);
      let resumeAt = "";
      for (let i = 0; i < half; i++) {
        const m = await s.next();
        assert.equal(m.event, "token");
        assert.deepEqual(JSON.parse(m.data), { i, text: expected[i] });
        resumeAt = m.lastEventId;
      }
      s.close();
      const rest = keep(stream(
        await subscribe(server, `topic=${topic}`, {
          token,
          headers: { "last-event-id": resumeAt },
        }),
      ));
      for (let i = half; i < expected.length; i++) {
        assert.deepEqual(JSON.parse((await rest.next()).data), { i, text: expected[i] });
      }
      const end = await rest.next();
      assert.equal(end.event, "herald.end");
      assert.deepEqual(JSON.parse(end.data), { status: "done" });
      await assert.rejects(rest.next(), /the stream ended/, "the server closes an ended stream");
      const after = await fetch(`${server.url}/v1/events?topic=${topic}`, {
        headers: {
          authorization: `Bearer ${token}`,
          "last-event-id": end.lastEventId,
          "x-forwarded-for": freshAddress(),
        },
      });
      assert.equal(after.status, 204, "a reconnect after the end is told to stop");
      await after.body?.cancel();
    });

    it("takes the token from Authorization, from the cookie and from ?token=", async () => {
      const topic = freshTopic();
      // One token each: on workerd a closed stream frees its slot only at its next write.
      const viaCookie = stream(
        await subscribe(server, `topic=${topic}`, {
          headers: { cookie: `other=1; herald_token=${await mint({ topics: [topic] })}` },
        }),
      );
      const viaQuery = stream(
        await subscribe(server, `topic=${topic}&token=${await mint({ topics: [topic] })}`),
      );
      const viaHeader = stream(
        await subscribe(server, `topic=${topic}`, {
          token: await mint({ topics: [topic] }),
        }),
      );
      await published(server, topic, { data: "to all three" });
      for (const s of [viaCookie, viaQuery, viaHeader]) {
        assert.equal((await s.next()).data, "to all three");
        s.close();
      }
    });

    it("refuses a missing, forged, expired, not-yet-valid or alg-none token with 401", async () => {
      const topic = freshTopic();
      const missing = refusal(await subscribe(server, `topic=${topic}`));
      assert.deepEqual([missing.status, missing.code], [401, "token-missing"]);

      const good = await mint({ topics: [topic] });
      const [h, , sig] = good.split(".");
      const widened = btoa(JSON.stringify({ topics: ["*"], exp: 9999999999 }))
        .replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      const forged = refusal(
        await subscribe(server, `topic=${topic}`, { token: `${h}.${widened}.${sig}` }),
      );
      assert.deepEqual([forged.status, forged.code], [401, "token-invalid"]);
      assert.match(forged.message, /signature/);

      const otherSecret = refusal(
        await subscribe(server, `topic=${topic}`, {
          token: await mint({ topics: [topic] }, "another-secret-of-enough-length-12345"),
        }),
      );
      assert.deepEqual([otherSecret.status, otherSecret.code], [401, "token-invalid"]);

      const expired = refusal(
        await subscribe(server, `topic=${topic}`, {
          token: await mint({ topics: [topic], exp: Math.floor(Date.now() / 1000) - 60 }),
        }),
      );
      assert.deepEqual([expired.status, expired.code], [401, "token-expired"]);
      assert.match(expired.message, /expired/);

      const early = refusal(
        await subscribe(server, `topic=${topic}`, {
          token: await mint({ topics: [topic], nbf: Math.floor(Date.now() / 1000) + 3600 }),
        }),
      );
      assert.deepEqual([early.status, early.code], [401, "token-not-yet-valid"]);

      const none = btoa(JSON.stringify({ alg: "none", typ: "JWT" })).replace(/=+$/, "");
      const algNone = refusal(
        await subscribe(server, `topic=${topic}`, { token: `${none}.${widened}.` }),
      );
      assert.deepEqual([algNone.status, algNone.code], [401, "token-invalid"]);

      const garbage = refusal(await subscribe(server, `topic=${topic}&token=not-a-jwt`));
      assert.deepEqual([garbage.status, garbage.code], [401, "token-invalid"]);
    });

    it("answers 403 for a topic the token does not allow, and honours patterns", async () => {
      const token = await mint({ topics: ["chat.*", "news"] });
      const forbidden = refusal(
        await subscribe(server, "topic=chat.lobby&topic=sport", {
          token,
        }),
      );
      assert.deepEqual([forbidden.status, forbidden.code], [403, "topic-forbidden"]);
      assert.match(forbidden.message, /"sport"/);
      const bare = refusal(await subscribe(server, "topic=chat", { token }));
      assert.equal(bare.status, 403, "chat.* does not allow chat itself");
      const allowed = stream(await subscribe(server, "topic=chat.eu.lobby&topic=news", { token }));
      allowed.close();
    });

    it("answers 400 for no topics, too many topics, a bad topic name or a bad cursor", async () => {
      const token = await mint({ topics: ["*"] });
      const none = refusal(await subscribe(server, "", { token }));
      assert.deepEqual([none.status, none.code], [400, "topics-missing"]);
      const many = refusal(await subscribe(server, "topic=a&topic=b&topic=c&topic=d", { token }));
      assert.deepEqual([many.status, many.code], [400, "too-many-topics"]);
      const bad = refusal(await subscribe(server, "topic=has%20space", { token }));
      assert.deepEqual([bad.status, bad.code], [400, "topic-invalid"]);
      const cursor = refusal(
        await subscribe(server, "topic=a", {
          token,
          headers: { "last-event-id": "h1.garbage" },
        }),
      );
      assert.deepEqual([cursor.status, cursor.code], [400, "cursor-invalid"]);
    });

    it("refuses publishing without a valid publisher key (401)", async () => {
      const topic = freshTopic();
      const response = await fetch(`${server.url}/v1/topics/${topic}`, {
        method: "POST",
        body: '{"data":1}',
      });
      assert.equal(response.status, 401);
      assert.equal((await response.json()).error.code, "publisher-key-invalid");
      const wrong = await publish(server, topic, { data: 1 }, `${MAIN_KEY}x`);
      assert.deepEqual([wrong.status, wrong.body.error?.code], [401, "publisher-key-invalid"]);
      const subscriberToken = await mint({ topics: ["*"] });
      const withToken = await publish(server, topic, { data: 1 }, subscriberToken);
      assert.equal(withToken.status, 401, "a subscriber token is not a publisher key");
    });

    it("refuses an oversized event with 413 and keeps delivering the next ones", async () => {
      const topic = freshTopic();
      const s = keep(stream(
        await subscribe(server, `topic=${topic}`, {
          token: await mint({ topics: [topic] }),
        }),
      ));
      const big = await publish(server, topic, { data: "x".repeat(1025) });
      assert.deepEqual([big.status, big.body.error?.code], [413, "event-too-large"]);
      const inBatch = await publish(server, topic, [{ data: "ok" }, { data: "y".repeat(2000) }]);
      assert.equal(inBatch.status, 413, "one oversized event refuses the whole batch");
      const fits = await published(server, topic, { data: "x".repeat(1024) });
      assert.equal(fits.length, 1);
      const m = await s.next();
      assert.equal(m.data.length, 1024, "nothing of the refused publishes was stored");
      s.close();
    });

    it("refuses malformed publish bodies with 400", async () => {
      const topic = freshTopic();
      for (
        const body of ["not json", "[]", '{"id":"1","data":1}', '{"event":"a\\nb","data":1}', "{}"]
      ) {
        const result = await publish(server, topic, body);
        assert.deepEqual([result.status, result.body.error?.code], [400, "body-invalid"], body);
      }
    });

    it("limits connections per token (429) without touching other tokens", async () => {
      const topic = freshTopic();
      const token = await mint({ topics: [topic] });
      const a = stream(await subscribe(server, `topic=${topic}`, { token }));
      const b = keep(stream(await subscribe(server, `topic=${topic}`, { token })));
      const third = refusal(await subscribe(server, `topic=${topic}`, { token }));
      assert.deepEqual([third.status, third.code], [429, "too-many-connections-per-token"]);
      assert.ok(third.headers.get("retry-after"));
      const other = stream(
        await subscribe(server, `topic=${topic}`, {
          token: await mint({ topics: [topic] }),
        }),
      );
      other.close();
      await published(server, topic, { data: "still flowing" });
      assert.equal((await b.next()).data, "still flowing");
      a.close();
      // The slot comes back once the server notices the disconnect.
      const again = await eventually(async () =>
        stream(await subscribe(server, `topic=${topic}`, { token }))
      );
      again.close();
      b.close();
    });

    it("limits connections per address (429) without touching other addresses", async () => {
      const topic = freshTopic();
      const address = "203.0.113.9";
      const held: Stream[] = [];
      for (let i = 0; i < 3; i++) {
        held.push(keep(stream(
          await subscribe(server, `topic=${topic}`, {
            token: await mint({ topics: [topic] }),
            address,
          }),
        )));
      }
      const fourth = refusal(
        await subscribe(server, `topic=${topic}`, {
          token: await mint({ topics: [topic] }),
          address,
        }),
      );
      assert.deepEqual([fourth.status, fourth.code], [429, "too-many-connections-per-address"]);
      const elsewhere = stream(
        await subscribe(server, `topic=${topic}`, {
          token: await mint({ topics: [topic] }),
        }),
      );
      elsewhere.close();
      for (const s of held) s.close();
    });

    it("limits the publish rate per key (429 with Retry-After) without touching other keys", async () => {
      const topic = freshTopic();
      const statuses: number[] = [];
      let limited: PublishResult | undefined;
      for (let i = 0; i < 20 && !limited; i++) {
        const result = await publish(rateServer, topic, { data: i }, RATE_KEY);
        statuses.push(result.status);
        if (result.status === 429) limited = result;
      }
      assert.ok(limited, `no 429 in ${statuses.join(",")}`);
      assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
      assert.equal(limited.body.error?.code, "rate-limited");
      assert.ok(Number(limited.headers.get("retry-after")) >= 1);
      const other = await publish(rateServer, topic, { data: "main" }, MAIN_KEY);
      assert.equal(other.status, 200, "another key is not limited");
    });

    it("answers CORS preflights for the configured origin only, with credentials", async () => {
      const ask = (origin: string) =>
        fetch(`${server.url}/v1/events?topic=a`, {
          method: "OPTIONS",
          headers: {
            origin,
            "access-control-request-method": "GET",
            "access-control-request-headers": "authorization,last-event-id",
          },
        });
      const allowed = await ask(ALLOWED_ORIGIN);
      await allowed.body?.cancel();
      assert.equal(allowed.headers.get("access-control-allow-origin"), ALLOWED_ORIGIN);
      assert.equal(allowed.headers.get("access-control-allow-credentials"), "true");
      assert.match(allowed.headers.get("access-control-allow-headers") ?? "", /last-event-id/i);
      const other = await ask("http://evil.test");
      await other.body?.cancel();
      assert.equal(other.headers.get("access-control-allow-origin"), null);
    });

    it("reports connections, events, lag and refusals in Prometheus text at /metrics", async () => {
      const topic = freshTopic();
      const s = stream(
        await subscribe(server, `topic=${topic}`, {
          token: await mint({ topics: [topic] }),
        }),
      );
      await published(server, topic, [{ data: 1 }, { data: 2 }]);
      await s.next();
      await s.next();
      s.close();
      const metric = async (pattern: RegExp) => {
        const response = await fetch(`${server.url}/metrics`);
        assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
        const match = pattern.exec(await response.text());
        assert.ok(match, `no ${pattern}`);
        return Number(match[1]);
      };
      assert.ok(await metric(/^herald_connections_opened_total (\d+)$/m) >= 5);
      assert.ok(await metric(/^herald_events_published_total (\d+)$/m) >= 10);
      assert.ok(await metric(/^herald_events_delivered_total (\d+)$/m) >= 10);
      assert.ok(await metric(/^herald_delivery_lag_seconds_count (\d+)$/m) >= 2);
      assert.ok(
        await metric(/^herald_requests_refused_total\{code="token-expired"\} (\d+)$/m) >= 1,
      );
      assert.equal(await metric(/^herald_broker_errors_total (\d+)$/m), 0);
      await eventually(async () => {
        const closed = await metric(
          /^herald_connections_closed_total\{reason="client-disconnected"\} (\d+)$/m,
        );
        assert.ok(closed >= 3, `closed ${closed}`);
      });
    });

    it("answers unknown routes with a JSON 404", async () => {
      const response = await fetch(`${server.url}/v2/nothing`);
      assert.equal(response.status, 404);
      assert.equal((await response.json()).error.code, "not-found");
      const dev = await fetch(`${server.url}/v1/dev/session`, { method: "POST" });
      assert.equal(dev.status, 404, "no dev session when dev mode is off");
      await dev.body?.cancel();
    });

    // Last: every stream the tests opened is closed by now.
    it("leaves no stream, timer, producer or queue behind once every client has left", async () => {
      for (const s of open) s.close();
      const text = async () => await (await fetch(`${server.url}/metrics`)).text();
      await eventually(async () => {
        const metrics = await text();
        for (
          const gauge of [
            "herald_connections_open",
            "herald_stream_timers",
            "herald_stream_producers",
            "herald_stream_queued_events",
            "herald_stream_queued_bytes",
          ]
        ) {
          assert.match(metrics, new RegExp(`^${gauge} 0$`, "m"), gauge);
        }
      }, 15_000);
    });
  });

  describe(`reference server lifecycle on ${target}`, { timeout: 120_000 }, () => {
    it("refuses to run without secrets when dev mode is off, saying which to set", async () => {
      const env = { HERALD_DEV_MODE: "false" };
      if (target === "workerd" || target === "edge") {
        // A Worker or an Edge Function has no start-up to fail: every request gets the refusal.
        const server = await startReferenceServer(target, { env });
        try {
          const response = await fetch(`${server.url}/healthz`);
          assert.equal(response.status, 500);
          const body = await response.json();
          assert.equal(body.error.code, "config-invalid");
          assert.match(body.error.message, /HERALD_JWT_SECRET/);
        } finally {
          await server.stop();
        }
        return;
      }
      await assert.rejects(
        startReferenceServer(target, { env, readyTimeoutMs: 20_000 }),
        /exited \(1\)[\s\S]*HERALD_JWT_SECRET is not set/,
      );
    });

    it("counts connections per address as the runtime reports it when no proxy is trusted", async () => {
      const server = await startReferenceServer(target, {
        env: {
          ...MAIN_ENV,
          HERALD_TRUST_PROXY: "false",
          HERALD_MAX_CONNECTIONS_PER_ADDRESS: "2",
          HERALD_MAX_CONNECTIONS_PER_TOKEN: "10",
        },
      });
      // Where each runtime takes the address from: the socket on Deno and Bun (127.0.0.1 here),
      // CF-Connecting-IP on Workers, the first X-Forwarded-For entry on Vercel Edge.
      const from = (address: string): Record<string, string> =>
        target === "workerd"
          ? { "cf-connecting-ip": address, "x-forwarded-for": "192.0.2.99" }
          : target === "edge"
          ? { "x-forwarded-for": `${address}, 192.0.2.99` }
          : { "x-forwarded-for": `${address}` }; // ignored: the socket address counts
      const held: Stream[] = [];
      try {
        const topic = freshTopic();
        const token = await mint({ topics: [topic] });
        for (let i = 0; i < 2; i++) {
          held.push(stream(
            await subscribe(server, `topic=${topic}`, {
              token,
              headers: from("192.0.2.1"),
            }),
          ));
        }
        const elsewhere = await subscribe(server, `topic=${topic}`, {
          token,
          headers: from("192.0.2.2"),
        });
        if (target === "deno" || target === "bun") {
          // Every client here is 127.0.0.1 to the socket: a header can't move it elsewhere.
          const third = refusal(elsewhere);
          assert.deepEqual([third.status, third.code], [429, "too-many-connections-per-address"]);
        } else {
          held.push(stream(elsewhere)); // another address: let in
          const same = refusal(
            await subscribe(server, `topic=${topic}`, {
              token,
              headers: from("192.0.2.1"),
            }),
          );
          assert.deepEqual([same.status, same.code], [429, "too-many-connections-per-address"]);
        }
      } finally {
        for (const s of held) s.close();
        await server.stop();
      }
    });

    it("ends streams cleanly at HERALD_MAX_DURATION_MS, and the client resumes where it was", async () => {
      const server = await startReferenceServer(target, {
        env: { ...MAIN_ENV, HERALD_MAX_DURATION_MS: "1500" },
      });
      try {
        const topic = freshTopic();
        const token = await mint({ topics: [topic] });
        const s = stream(await subscribe(server, `topic=${topic}`, { token }));
        await published(server, topic, { data: "one" });
        const one = await s.next();
        const started = Date.now();
        await assert.rejects(s.next(10_000), /the stream ended/, "ended by the server, cleanly");
        assert.ok(Date.now() - started < 9_000);
        await published(server, topic, { data: "two" });
        const again = stream(
          await subscribe(server, `topic=${topic}`, {
            token,
            headers: { "last-event-id": one.lastEventId },
          }),
        );
        assert.equal((await again.next()).data, "two");
        again.close();
      } finally {
        await server.stop();
      }
    });

    it("keeps a quiet stream open past Bun's 10 s idle timeout", {
      skip: target !== "bun",
    }, async () => {
      const server = await startReferenceServer(target, {
        env: { ...MAIN_ENV, HERALD_KEEP_ALIVE_MS: "60000" },
      });
      try {
        const topic = freshTopic();
        const s = stream(
          await subscribe(server, `topic=${topic}`, {
            token: await mint({ topics: [topic] }),
          }),
        );
        await new Promise((r) => setTimeout(r, 12_000));
        await published(server, topic, { data: "after 12 s of silence" });
        assert.equal((await s.next()).data, "after 12 s of silence");
        s.close();
      } finally {
        await server.stop();
      }
    });

    it("ends open streams cleanly on SIGTERM, so clients reconnect and resume", {
      skip: target === "workerd" || target === "edge",
    }, async () => {
      const server = await startReferenceServer(target, { env: MAIN_ENV });
      try {
        const topic = freshTopic();
        const s = stream(
          await subscribe(server, `topic=${topic}`, {
            token: await mint({ topics: [topic] }),
          }),
        );
        await published(server, topic, { data: "last" });
        assert.equal((await s.next()).data, "last");
        const stopping = server.stop();
        await assert.rejects(s.next(), /the stream ended/, "a clean end, not a cut connection");
        await stopping;
      } finally {
        await server.stop();
      }
    });
  });
}

if (runtime === "deno" || runtime === "bun") apiSuite(runtime);
if (runtime === "deno") apiSuite("workerd");
if (runtime === "deno") apiSuite("edge");
