// The reference server's parts on their own: settings, tokens, patterns, limits, publish bodies,
// metrics. Fast, no processes; the API tests run the same code end to end.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { loadConfig } from "../../examples/server/config.ts";
import { signToken, timingSafeEqual, verifyToken } from "../../examples/server/jwt.ts";
import { topicAllowed } from "../../examples/server/topic_patterns.ts";
import { findToken } from "../../examples/server/credentials.ts";
import { ConnectionLimiter, RateLimiter } from "../../examples/server/limits.ts";
import { readPublishBody } from "../../examples/server/publish_body.ts";
import { Metrics } from "../../examples/server/metrics.ts";
import { meterDeliveries } from "../../examples/server/delivery_meter.ts";
import { ServerError } from "../../examples/server/errors.ts";
import { answerTokens } from "../../examples/server/ai_answer.ts";
import { PAGE_HTML } from "../../examples/server/page.ts";
import { createApp } from "../../examples/server/app.ts";
import { memoryHub } from "../../examples/server/memory_hub.ts";
import { encodeCursor, type SSEEvent, topicsTag } from "../../mod.ts";

const SECRET = "units-secret-0123456789-abcdefghijklm";

function refusedWith(code: string, status?: number) {
  return (error: unknown) => {
    assert.ok(error instanceof ServerError, `a ServerError, got ${error}`);
    assert.equal(error.code, code);
    if (status !== undefined) assert.equal(error.status, status);
    assert.ok(error.message.length > 20, "a message that says what to do");
    return true;
  };
}

describe("reference server settings", () => {
  it("default to loopback, port 8000, dev mode and the dev secrets", () => {
    const config = loadConfig({});
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.port, 8000);
    assert.equal(config.devMode, true);
    assert.ok(config.jwtSecret.length >= 32);
    assert.equal(config.publisherKeys.length, 1);
    assert.deepEqual(config.corsOrigins, []);
    assert.equal(config.upstash, undefined);
  });
  it("refuse to start off loopback without real secrets", () => {
    assert.throws(() => loadConfig({ HOST: "0.0.0.0" }), refusedWith("config-invalid", 500));
    assert.throws(
      () => loadConfig({ HOST: "0.0.0.0", HERALD_JWT_SECRET: SECRET }),
      refusedWith("config-invalid"),
    );
    const config = loadConfig({
      HOST: "0.0.0.0",
      HERALD_JWT_SECRET: SECRET,
      HERALD_PUBLISHER_KEYS: "k1, k2",
    });
    assert.equal(config.devMode, false);
    assert.deepEqual(config.publisherKeys, ["k1", "k2"]);
  });
  it("turn dev mode off when asked, even on loopback", () => {
    assert.throws(() => loadConfig({ HERALD_DEV_MODE: "false" }), refusedWith("config-invalid"));
  });
  it("refuse a short JWT secret, a bad number, and one Upstash variable without the other", () => {
    assert.throws(() => loadConfig({ HERALD_JWT_SECRET: "short" }), refusedWith("config-invalid"));
    assert.throws(
      () => loadConfig({ HERALD_MAX_EVENT_BYTES: "12kb" }),
      (error: unknown) => {
        assert.ok(error instanceof ServerError);
        assert.match(error.message, /HERALD_MAX_EVENT_BYTES/);
        return true;
      },
    );
    assert.throws(
      () => loadConfig({ UPSTASH_REDIS_REST_URL: "https://x.upstash.io" }),
      refusedWith("config-invalid"),
    );
  });
  it("refuse CORS `*` with credentials", () => {
    assert.throws(
      () => loadConfig({ HERALD_CORS_ORIGINS: "*", HERALD_CORS_CREDENTIALS: "true" }),
      refusedWith("config-invalid"),
    );
    assert.deepEqual(loadConfig({ HERALD_CORS_ORIGINS: "*" }).corsOrigins, ["*"]);
  });
});

describe("subscriber tokens (HS256 over WebCrypto)", () => {
  const nowMs = 1_800_000_000_000;
  const exp = nowMs / 1000 + 60;

  it("verify what they sign", async () => {
    const token = await signToken({ topics: ["chat.*"], exp, sub: "ann" }, SECRET);
    const claims = await verifyToken(token, SECRET, nowMs);
    assert.deepEqual(claims.topics, ["chat.*"]);
    assert.equal(claims.sub, "ann");
  });
  it("expire exactly at exp and are not valid before nbf", async () => {
    const token = await signToken({ topics: ["a"], exp, nbf: exp - 30 }, SECRET);
    await verifyToken(token, SECRET, (exp - 1) * 1000);
    await assert.rejects(
      verifyToken(token, SECRET, exp * 1000),
      refusedWith("token-expired", 401),
    );
    await assert.rejects(
      verifyToken(token, SECRET, (exp - 31) * 1000),
      refusedWith("token-not-yet-valid", 401),
    );
  });
  it("refuse edited claims, another secret, and any alg but HS256", async () => {
    const token = await signToken({ topics: ["a"], exp }, SECRET);
    const [header, claims, signature] = token.split(".");
    const edited = claims.slice(0, -2) + (claims.endsWith("A") ? "BB" : "AA");
    await assert.rejects(
      verifyToken(`${header}.${edited}.${signature}`, SECRET, nowMs),
      refusedWith("token-invalid"),
    );
    await assert.rejects(
      verifyToken(token, SECRET.replace("u", "v"), nowMs),
      refusedWith("token-invalid"),
    );
    for (const alg of ["none", "HS512", "RS256"]) {
      const other = btoa(JSON.stringify({ alg, typ: "JWT" })).replace(/=+$/, "");
      await assert.rejects(
        verifyToken(`${other}.${claims}.${signature}`, SECRET, nowMs),
        refusedWith("token-invalid"),
      );
    }
  });
  it("refuse tokens without topics or exp", async () => {
    const noExp = await signToken(
      { topics: ["a"] } as unknown as { topics: string[]; exp: number },
      SECRET,
    );
    await assert.rejects(verifyToken(noExp, SECRET, nowMs), refusedWith("token-invalid"));
    const noTopics = await signToken(
      { exp } as unknown as { topics: string[]; exp: number },
      SECRET,
    );
    await assert.rejects(verifyToken(noTopics, SECRET, nowMs), refusedWith("token-invalid"));
  });
  it("compare bytes in constant time, by value", () => {
    assert.equal(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])), true);
    assert.equal(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])), false);
    assert.equal(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])), false);
  });
});

describe("where a token is found", () => {
  const request = (headers: Record<string, string>, query = "") =>
    new Request(`http://x/v1/events?topic=a${query}`, { headers });
  it("takes Authorization first, then ?token=, then the ambient cookie", () => {
    const cookie = { cookie: "a=1; herald_token=from-cookie; b=2" };
    assert.deepEqual(findToken(request(cookie), "herald_token"), {
      token: "from-cookie",
      source: "cookie",
    });
    assert.deepEqual(findToken(request(cookie, "&token=from-query"), "herald_token"), {
      token: "from-query",
      source: "query",
    });
    assert.deepEqual(
      findToken(
        request({ ...cookie, authorization: "Bearer from-header" }, "&token=from-query"),
        "herald_token",
      ),
      { token: "from-header", source: "authorization" },
    );
    assert.equal(findToken(request({ cookie: "other=1" }), "herald_token"), undefined);
    assert.equal(findToken(request({ authorization: "Basic abc" }), "herald_token"), undefined);
  });
});

describe("topic patterns of a token", () => {
  it("allow exact names, `*` as one or more characters, and `*` alone for all", () => {
    assert.equal(topicAllowed("news", ["news"]), true);
    assert.equal(topicAllowed("chat.lobby", ["chat.*"]), true);
    assert.equal(topicAllowed("chat.eu.lobby", ["chat.*"]), true);
    assert.equal(topicAllowed("chat", ["chat.*"]), false);
    assert.equal(topicAllowed("chat.", ["chat.*"]), false);
    assert.equal(topicAllowed("chatter", ["chat.*"]), false);
    assert.equal(topicAllowed("room:1/users", ["room:*/users"]), true);
    assert.equal(topicAllowed("anything", ["*"]), true);
    assert.equal(topicAllowed("news", []), false);
  });
  it("treat regex characters in names literally", () => {
    assert.equal(topicAllowed("a.b", ["a.b"]), true);
    assert.equal(topicAllowed("axb", ["a.b"]), false);
    assert.equal(topicAllowed("axb.c", ["a.b*"]), false);
  });
});

describe("limits", () => {
  it("count connections per token and per address, and release each slot once", () => {
    const limiter = new ConnectionLimiter({ perToken: 2, perAddress: 3 });
    const a1 = limiter.acquire("a", "ip1");
    limiter.acquire("a", "ip2");
    assert.throws(
      () => limiter.acquire("a", "ip3"),
      refusedWith("too-many-connections-per-token", 429),
    );
    limiter.acquire("b", "ip1");
    limiter.acquire("c", "ip1");
    assert.throws(
      () => limiter.acquire("d", "ip1"),
      refusedWith("too-many-connections-per-address", 429),
    );
    a1();
    a1();
    assert.equal(limiter.countToken("a"), 1, "a second release changes nothing");
    assert.equal(limiter.countAddress("ip1"), 2);
    limiter.acquire("a", "ip3");
  });
  it("let a key burst, then refuse with Retry-After until the bucket refills", () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3, now: () => now });
    limiter.take("k");
    limiter.take("k");
    limiter.take("k");
    assert.throws(() => limiter.take("k"), (error: unknown) => {
      assert.ok(error instanceof ServerError);
      assert.equal(error.code, "rate-limited");
      assert.equal(error.headers["retry-after"], "1");
      return true;
    });
    limiter.take("other");
    now += 499;
    assert.throws(() => limiter.take("k"), refusedWith("rate-limited"));
    now += 1;
    limiter.take("k");
    now += 10_000;
    for (let i = 0; i < 3; i++) limiter.take("k");
    assert.throws(() => limiter.take("k"), refusedWith("rate-limited"), "capped at the burst");
  });
});

describe("publish bodies", () => {
  const limits = { maxEventBytes: 10, maxEvents: 2 };
  const body = (text: string, headers: Record<string, string> = {}) =>
    new Request("http://x/", { method: "POST", body: text, headers });

  it("accept one event or an array, data as sent on the wire", async () => {
    assert.deepEqual(await readPublishBody(body('{"data":"0123456789"}'), limits), [{
      data: "0123456789",
    }]);
    assert.deepEqual(
      await readPublishBody(body('[{"event":"e","data":1},{"data":null}]'), limits),
      [{ event: "e", data: 1 }, { data: null }],
    );
  });
  it("refuse oversized data (413), counted in UTF-8 bytes", async () => {
    await assert.rejects(
      readPublishBody(body('{"data":"01234567890"}'), limits),
      refusedWith("event-too-large", 413),
    );
    await assert.rejects(
      readPublishBody(body('{"data":"ééééé£"}'), limits),
      refusedWith("event-too-large"),
    );
  });
  it("refuse a declared huge body before reading it", async () => {
    await assert.rejects(
      readPublishBody(body("{}", { "content-length": "99999999" }), limits),
      refusedWith("event-too-large"),
    );
  });
  it("refuse other fields, too many events, no data, and non-JSON (400)", async () => {
    for (
      const text of [
        '{"data":1,"id":"7"}',
        '{"data":1,"retry":5}',
        "[1]",
        '[{"data":1},{"data":2},{"data":3}]',
        '{"event":"x"}',
        '{"event":"","data":1}',
        "nope",
      ]
    ) {
      await assert.rejects(readPublishBody(body(text), limits), refusedWith("body-invalid", 400));
    }
  });
});

describe("metrics", () => {
  it("render valid Prometheus text with cumulative lag buckets", () => {
    const metrics = new Metrics();
    metrics.connectionOpened();
    metrics.connectionOpened();
    metrics.connectionClosed("client-disconnected");
    metrics.refused("token-expired");
    metrics.eventsPublished(3);
    metrics.eventDelivered(3);
    metrics.eventDelivered(300);
    metrics.eventDelivered(undefined);
    const text = metrics.render();
    for (const line of text.trimEnd().split("\n")) {
      assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{\w+="[^"]*"\})? [0-9.e+-]+)$/, line);
    }
    assert.match(text, /^herald_connections_open 1$/m);
    assert.match(text, /^herald_connections_closed_total\{reason="client-disconnected"\} 1$/m);
    assert.match(text, /^herald_events_delivered_total 3$/m);
    assert.match(text, /^herald_delivery_lag_seconds_bucket\{le="0.005"\} 1$/m);
    assert.match(text, /^herald_delivery_lag_seconds_bucket\{le="0.5"\} 2$/m);
    assert.match(text, /^herald_delivery_lag_seconds_count 2$/m);
  });
  it("take the lag from the position an event's id advanced, live events only", async () => {
    const metrics = new Metrics();
    const startMs = 1_800_000_000_000;
    let now = startMs;
    const tag = topicsTag(["a", "b"]);
    const id = (a: number, b: number) => encodeCursor("e1", tag, [`${a}-0`, `${b}-0`]);
    // Each event with the time the meter reads it (the source sets the clock as it hands it over).
    const events: [SSEEvent, number][] = [
      [{ id: id(startMs - 5000, 0) }, startMs + 100], // the starting cursor: not an event
      [{ id: id(startMs - 5000, startMs - 4000), data: "replayed" }, startMs + 200], // no lag
      [{ id: id(startMs - 5000, startMs + 100), data: "live b" }, startMs + 600], // 0.5 s
      [{ id: id(startMs + 150, startMs + 100), data: "live a" }, startMs + 800], // 0.65 s
    ];
    const source = new ReadableStream<SSEEvent>({
      pull(controller) {
        const next = events.shift();
        if (!next) return controller.close();
        now = next[1];
        controller.enqueue(next[0]);
      },
    }, { highWaterMark: 0 });
    const metered = meterDeliveries(source, metrics, { lastEventId: undefined, now: () => now });
    const seen: SSEEvent[] = [];
    for await (const event of metered) seen.push(event);
    assert.equal(seen.length, 4, "every event passes through unchanged");
    assert.equal(metrics.delivered, 3);
    assert.match(metrics.render(), /^herald_delivery_lag_seconds_count 2$/m);
    assert.match(metrics.render(), /^herald_delivery_lag_seconds_sum 1\.15\d*$/m);
  });
});

describe("the app in-process", () => {
  it("guards /metrics with HERALD_METRICS_KEY when it is set", async () => {
    const config = loadConfig({ HERALD_METRICS_KEY: "metrics-key" });
    const app = createApp({ config, hub: memoryHub(config), brokerName: "memory" });
    const get = (headers: Record<string, string>) =>
      app.fetch(new Request("http://127.0.0.1/metrics", { headers }), {});
    const open = await get({});
    assert.equal(open.status, 401);
    assert.equal((await open.json()).error.code, "metrics-key-invalid");
    const wrong = await get({ authorization: "Bearer metrics-keyX" });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const right = await get({ authorization: "Bearer metrics-key" });
    assert.equal(right.status, 200);
    assert.match(
      await right.text(),
      /^herald_requests_refused_total\{code="metrics-key-invalid"\} 2$/m,
    );
  });
  it("serves the page with a Content-Security-Policy that pins its inline script", async () => {
    const config = loadConfig({});
    const app = createApp({ config, hub: memoryHub(config), brokerName: "memory" });
    const page = await app.fetch(new Request("http://127.0.0.1/"), {});
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(await page.text(), PAGE_HTML);
  });
});

describe("the page and the demo", () => {
  it("the demo answer is long and its tokens join back to the text", () => {
    const tokens = answerTokens();
    assert.ok(tokens.length > 150);
    assert.ok(tokens.slice(1).every((t) => /^\s+\S+$/.test(t)));
    assert.equal(tokens.join("").split(/\s+/).length, tokens.length);
  });
  it("the page is one HTML document with no unfilled template parts", () => {
    assert.ok(PAGE_HTML.startsWith("<!doctype html>"));
    assert.equal(PAGE_HTML.includes("${"), false);
    assert.match(PAGE_HTML, /new EventSource\(/);
    assert.match(PAGE_HTML, /sessionStorage/);
  });
});
