// The reference server's parts on their own: settings, tokens, patterns, limits, publish bodies,
// metrics. Fast, no processes; the API and security tests run the same code end to end.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  DEV_PUBLISHER_KEY,
  loadConfig,
  MAX_EVENT_BYTES_LIMIT,
} from "../../examples/server/config.ts";
import { cursorSecretFor } from "../../examples/server/cursor_secret.ts";
import { signToken, timingSafeEqual, verifyToken } from "../../examples/server/jwt.ts";
import { patternMatches, topicAllowed } from "../../examples/server/topic_patterns.ts";
import { findToken } from "../../examples/server/credentials.ts";
import {
  AuthFailureThrottle,
  ConnectionLimiter,
  RateLimiter,
  subscribeRate,
} from "../../examples/server/limits.ts";
import {
  jsonDepthWithin,
  MAX_EVENT_NAME_BYTES,
  readPublishBody,
} from "../../examples/server/publish_body.ts";
import { allowedTopics, streamLifetime } from "../../examples/server/subscribe_request.ts";
import { Metrics } from "../../examples/server/metrics.ts";
import { ServerError } from "../../examples/server/errors.ts";
import { answerTokens } from "../../examples/server/ai_answer.ts";
import { PAGE_HTML } from "../../examples/server/page.ts";
import { createApp } from "../../examples/server/app.ts";
import { memoryHub } from "../../examples/server/memory_hub.ts";
import { createHub, MemoryBroker } from "@herald/sse";
import { subscriptionResponse } from "../../examples/server/subscription_response.ts";
import { seededRandom } from "../support/random.ts";

const SECRET = "units-secret-0123456789-abcdefghijklm";
const KEY_1 = "units-publisher-key-1-0123456789abcdef";
/** Settings of a server with real secrets (dev mode off). */
const SECRETS = { HERALD_JWT_SECRET: SECRET, HERALD_PUBLISHER_KEYS: KEY_1 };
const CURSOR_SECRET = "units-cursor-secret-0123456789-abcdef";

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
  it("default to loopback and port 8000, and refuse to start without secrets", () => {
    assert.throws(() => loadConfig({}), refusedWith("config-invalid", 500));
    const config = loadConfig(SECRETS);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.port, 8000);
    assert.equal(config.devMode, false);
    assert.deepEqual(config.publisherKeys, [KEY_1]);
    assert.deepEqual(config.corsOrigins, []);
    assert.equal(config.upstash, undefined);
    assert.equal(config.cursorSecret, undefined, "derived from the JWT secret when unset");
  });
  it("turn dev mode on only by HERALD_DEV_MODE=true, never because HOST is loopback", () => {
    for (const host of ["127.0.0.1", "localhost", "::1"]) {
      assert.equal(loadConfig({ ...SECRETS, HOST: host }).devMode, false, host);
    }
    // The nginx recipe: loopback, real secrets, a trusted proxy: no dev mode, no dev session.
    const behindProxy = loadConfig({ ...SECRETS, HOST: "127.0.0.1", HERALD_TRUST_PROXY: "true" });
    assert.equal(behindProxy.devMode, false);
    const dev = loadConfig({ HERALD_DEV_MODE: "true" });
    assert.equal(dev.devMode, true);
    assert.deepEqual(dev.publisherKeys, [DEV_PUBLISHER_KEY]);
  });
  it("refuse dev mode next to real secrets, off loopback, or behind a trusted proxy", () => {
    for (
      const env of [
        { HERALD_DEV_MODE: "true", HERALD_JWT_SECRET: SECRET },
        { HERALD_DEV_MODE: "true", HERALD_PUBLISHER_KEYS: KEY_1 },
        { HERALD_DEV_MODE: "true", HOST: "0.0.0.0" },
        { HERALD_DEV_MODE: "true", HERALD_TRUST_PROXY: "true" },
      ]
    ) {
      assert.throws(() => loadConfig(env), refusedWith("config-invalid", 500), JSON.stringify(env));
    }
  });
  it("require 32 characters of every secret and key: JWT, publisher, metrics, cursor", () => {
    const short = "x".repeat(31);
    for (
      const [name, env] of [
        ["HERALD_JWT_SECRET", { ...SECRETS, HERALD_JWT_SECRET: short }],
        ["HERALD_PUBLISHER_KEYS", { ...SECRETS, HERALD_PUBLISHER_KEYS: `${KEY_1},${short}` }],
        ["HERALD_PUBLISHER_KEYS", { ...SECRETS, HERALD_PUBLISHER_KEYS: "a" }],
        ["HERALD_METRICS_KEY", { ...SECRETS, HERALD_METRICS_KEY: short }],
        ["HERALD_CURSOR_SECRET", { ...SECRETS, HERALD_CURSOR_SECRET: short }],
      ] as const
    ) {
      assert.throws(() => loadConfig(env), (error: unknown) => {
        assert.ok(error instanceof ServerError);
        assert.equal(error.code, "config-invalid");
        assert.match(error.message, new RegExp(`${name}[\\s\\S]*32`));
        assert.equal(error.message.includes(short), false, "a secret is never echoed");
        return true;
      }, name);
    }
    const long = "y".repeat(32);
    const config = loadConfig({ ...SECRETS, HERALD_METRICS_KEY: long, HERALD_CURSOR_SECRET: long });
    assert.equal(config.metricsKey, long);
    assert.equal(config.cursorSecret, long);
  });
  it("refuse a bad number, an event limit clients can't read, and one Upstash variable", () => {
    assert.throws(
      () => loadConfig({ ...SECRETS, HERALD_MAX_EVENT_BYTES: "12kb" }),
      (error: unknown) => {
        assert.ok(error instanceof ServerError);
        assert.match(error.message, /HERALD_MAX_EVENT_BYTES/);
        return true;
      },
    );
    assert.throws(
      () => loadConfig({ ...SECRETS, HERALD_MAX_EVENT_BYTES: String(1024 * 1024) }),
      refusedWith("config-invalid"),
      "an event as large as a client's default parser limit leaves no room for name and id",
    );
    assert.throws(
      () => loadConfig({ ...SECRETS, UPSTASH_REDIS_REST_URL: "https://x.upstash.io" }),
      refusedWith("config-invalid"),
    );
  });
  it("refuse CORS `*` with credentials", () => {
    assert.throws(
      () => loadConfig({ ...SECRETS, HERALD_CORS_ORIGINS: "*", HERALD_CORS_CREDENTIALS: "true" }),
      refusedWith("config-invalid"),
    );
    assert.deepEqual(loadConfig({ ...SECRETS, HERALD_CORS_ORIGINS: "*" }).corsOrigins, ["*"]);
  });
  it("derive the cursor secret from the JWT secret: the same everywhere, never the JWT secret", async () => {
    const derived = await cursorSecretFor(loadConfig(SECRETS));
    assert.equal(derived, await cursorSecretFor(loadConfig(SECRETS)));
    assert.ok(derived.length >= 32);
    assert.notEqual(derived, SECRET);
    const rotated = { ...SECRETS, HERALD_JWT_SECRET: SECRET.replace("u", "v") };
    assert.notEqual(await cursorSecretFor(loadConfig(rotated)), derived);
    const own = loadConfig({ ...SECRETS, HERALD_CURSOR_SECRET: CURSOR_SECRET });
    assert.equal(await cursorSecretFor(own), CURSOR_SECRET);
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
  /** Signs any header and claims with SECRET, as a token issuer with odd habits would. */
  async function signRaw(header: unknown, claims: unknown): Promise<string> {
    const part = (value: unknown) =>
      btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const input = `${part(header)}.${part(claims)}`;
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)),
    );
    const signature = btoa(String.fromCharCode(...mac)).replace(/\+/g, "-").replace(/\//g, "_")
      .replace(/=+$/, "");
    return `${input}.${signature}`;
  }
  const HS256 = { alg: "HS256", typ: "JWT" };

  it("refuse a token whose header has a crit parameter, whatever it lists", async () => {
    for (const crit of [["exp"], [], ["b64"], "x"]) {
      const token = await signRaw({ ...HS256, crit }, { topics: ["a"], exp });
      await assert.rejects(verifyToken(token, SECRET, nowMs), (error: unknown) => {
        assert.ok(error instanceof ServerError);
        assert.equal(error.code, "token-invalid");
        assert.match(error.message, /crit/);
        return true;
      });
    }
    await verifyToken(await signRaw(HS256, { topics: ["a"], exp }), SECRET, nowMs);
  });
  it("treat a non-numeric exp, nbf or iat as token-invalid, not as expired or early", async () => {
    for (
      const claims of [
        { topics: ["a"], exp: String(exp) },
        { topics: ["a"], exp: null },
        { topics: ["a"], exp: [exp] },
        { topics: ["a"], exp, nbf: "0" },
        { topics: ["a"], exp, nbf: null },
        { topics: ["a"], exp, nbf: { n: 1 } },
        { topics: ["a"], exp, iat: "now" },
      ]
    ) {
      await assert.rejects(
        verifyToken(await signRaw(HS256, claims), SECRET, nowMs),
        refusedWith("token-invalid", 401),
        JSON.stringify(claims),
      );
    }
  });
  it("refuse topics: [] at verification (a token that allows nothing is a mistake)", async () => {
    await assert.rejects(
      verifyToken(await signRaw(HS256, { topics: [], exp }), SECRET, nowMs),
      refusedWith("token-invalid"),
    );
    for (const topics of [[""], [1], "a", null, {}]) {
      await assert.rejects(
        verifyToken(await signRaw(HS256, { topics, exp }), SECRET, nowMs),
        refusedWith("token-invalid"),
      );
    }
  });
  it("say when a far-future nbf or a far-past exp is, instead of failing to format it", async () => {
    await assert.rejects(
      verifyToken(await signRaw(HS256, { topics: ["a"], exp: 1e300, nbf: 1e300 }), SECRET, nowMs),
      refusedWith("token-not-yet-valid", 401),
    );
    await assert.rejects(
      verifyToken(await signRaw(HS256, { topics: ["a"], exp: -1e300 }), SECRET, nowMs),
      refusedWith("token-expired", 401),
    );
  });
  it("refuse an oversized token before any work, and check the signature before the claims", async () => {
    const huge = "a".repeat(9000);
    await assert.rejects(verifyToken(huge, SECRET, nowMs), refusedWith("token-invalid"));
    // Claims that are not even JSON, under a forged signature: refused for the signature.
    const header = btoa(JSON.stringify(HS256)).replace(/=+$/, "");
    await assert.rejects(verifyToken(`${header}.e30x.AAAA`, SECRET, nowMs), (error: unknown) => {
      assert.ok(error instanceof ServerError);
      assert.match(error.message, /signature/);
      return true;
    });
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
    assert.equal(topicAllowed("", ["*"]), false);
    assert.equal(topicAllowed("ab", ["a**"]), false, "two stars take two characters at least");
    assert.equal(topicAllowed("abc", ["a**"]), true);
    assert.equal(topicAllowed("news", []), false);
  });
  it("treat regex characters in names literally", () => {
    assert.equal(topicAllowed("a.b", ["a.b"]), true);
    assert.equal(topicAllowed("axb", ["a.b"]), false);
    assert.equal(topicAllowed("axb.c", ["a.b*"]), false);
    assert.equal(topicAllowed("a+b", ["a+*"]), true);
    assert.equal(topicAllowed("aab", ["a+b"]), false);
  });
  it("match as a regular expression would, on random patterns and topics", () => {
    const random = seededRandom(0x7091c);
    const alphabet = ["a", "b", ".", "*"];
    const asRegExp = (pattern: string) =>
      new RegExp(`^${pattern.split("*").map((p) => p.replace(/\./g, "\\.")).join(".+")}$`, "s");
    for (let i = 0; i < 5000; i++) {
      const pattern = Array.from({ length: 1 + random.int(7) }, () => random.pick(alphabet)).join(
        "",
      );
      const topic = Array.from({ length: random.int(9) }, () => random.pick(["a", "b", "."])).join(
        "",
      );
      assert.equal(
        patternMatches(pattern, topic),
        asRegExp(pattern).test(topic),
        `${JSON.stringify(pattern)} vs ${JSON.stringify(topic)}`,
      );
    }
  });
  it("match *a*a*a*a*a*b against a long run of a's in linear time, not by backtracking", () => {
    // A backtracking regex took 42 s on 128 a's and doubles with each one more. Here the work
    // grows with the topic's length: 8x the topic may cost at most ~16x the time.
    const pattern = "*a*a*a*a*a*b";
    const time = (topic: string) => {
      let best = Infinity;
      for (let run = 0; run < 7; run++) {
        const started = performance.now();
        for (let i = 0; i < 200; i++) assert.equal(patternMatches(pattern, topic), false);
        best = Math.min(best, performance.now() - started);
      }
      return best;
    };
    time("a".repeat(128)); // warm up
    const small = time("a".repeat(128));
    const large = time("a".repeat(1024));
    assert.ok(large <= Math.max(small, 0.5) * 16, `128 a's: ${small} ms, 1024 a's: ${large} ms`);
    assert.equal(topicAllowed("a".repeat(127) + "b", [pattern]), true);
  });
});

describe("what a subscribe request may ask for", () => {
  const claims = { topics: ["chat.*", "news"], exp: 2_000_000_000 };
  it("refuses no topics, too many, a topic too long to be one, and topics the token forbids", () => {
    assert.throws(() => allowedTopics([], claims, 3), refusedWith("topics-missing", 400));
    assert.throws(
      () => allowedTopics(["news", "chat.a", "chat.b", "chat.c"], claims, 3),
      refusedWith("too-many-topics", 400),
    );
    assert.throws(
      () => allowedTopics(["chat." + "a".repeat(5000)], claims, 3),
      refusedWith("topic-invalid", 400),
    );
    assert.throws(() => allowedTopics(["sport"], claims, 3), refusedWith("topic-forbidden", 403));
    assert.deepEqual(allowedTopics(["news", "news", "chat.x"], claims, 2), ["news", "chat.x"]);
  });
  it("ends a stream at the token's exp at the latest, exactly (no jitter)", () => {
    const nowMs = 1_000_000;
    assert.deepEqual(streamLifetime(0, 1_060, nowMs), {
      maxDurationMs: 60_000,
      maxDurationJitter: 0,
    });
    assert.deepEqual(streamLifetime(30_000, 1_060, nowMs), { maxDurationMs: 30_000 });
    assert.deepEqual(streamLifetime(90_000, 1_060, nowMs), {
      maxDurationMs: 60_000,
      maxDurationJitter: 0,
    });
    // A token valid for a century: capped at the longest timer every runtime can set.
    assert.equal(streamLifetime(0, 5_000_000_000, nowMs).maxDurationMs, 2 ** 31 - 1);
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
  it("keep memory bounded whatever keys arrive: refilled buckets forgotten, then the oldest", () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2, now: () => now, maxKeys: 1000 });
    for (let i = 0; i < 50_000; i++) {
      limiter.tryTake(`address-${i}`);
      assert.ok(limiter.size <= 1000);
    }
    // The most recent keys are the ones kept: address-49999 has one request left, not two.
    limiter.take("address-49999");
    assert.throws(() => limiter.take("address-49999"), refusedWith("rate-limited"));
    now += 2_000; // every bucket has refilled: the next sweep forgets them all
    limiter.take("fresh");
    assert.equal(limiter.size, 1);
  });
  it("throttle failed authentications per address: refuse (429 + Retry-After) once they run out", () => {
    let now = 0;
    const throttle = new AuthFailureThrottle({ ratePerSecond: 0.5, burst: 3, now: () => now });
    for (let i = 0; i < 3; i++) {
      throttle.check("198.51.100.1");
      throttle.record("198.51.100.1");
    }
    assert.throws(() => throttle.check("198.51.100.1"), (error: unknown) => {
      assert.ok(error instanceof ServerError);
      assert.equal(error.code, "too-many-auth-failures");
      assert.equal(error.status, 429);
      assert.equal(error.headers["retry-after"], "2");
      return true;
    });
    throttle.record("198.51.100.1"); // more failures while refused change nothing for others
    throttle.check("198.51.100.2");
    now += 2_000;
    throttle.check("198.51.100.1");
  });
  it("limit subscribe requests per token and per address, each with its own setting named", () => {
    const now = () => 0;
    for (const per of ["token", "address"] as const) {
      const limiter = subscribeRate(per, { ratePerSecond: 1, burst: 2, now });
      limiter.take("k");
      limiter.take("k");
      assert.throws(() => limiter.take("k"), (error: unknown) => {
        assert.ok(error instanceof ServerError);
        assert.equal(error.code, "too-many-subscribes");
        assert.equal(error.status, 429);
        assert.equal(error.headers["retry-after"], "1");
        assert.match(
          error.message,
          per === "token" ? /HERALD_SUBSCRIBE_BURST/ : /HERALD_ADDRESS_SUBSCRIBE_BURST/,
        );
        return true;
      });
      limiter.take("other");
    }
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
  it("refuse a 1,000,000-deep body with a 400 before parsing it, and accept 60 levels", async () => {
    const roomy = { maxEventBytes: 10_000_000, maxEvents: 2 };
    for (
      const text of [
        "[".repeat(1_000_000) + "]".repeat(1_000_000),
        `{"data":${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}}`,
        `{"data":${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}}`,
        "[".repeat(1_000_000), // not even closed
      ]
    ) {
      await assert.rejects(readPublishBody(body(text), roomy), (error: unknown) => {
        assert.ok(error instanceof ServerError);
        assert.equal(error.code, "body-invalid");
        assert.match(error.message, /deep/);
        return true;
      });
    }
    const nested = `{"data":${"[".repeat(60)}1${"]".repeat(60)}}`;
    assert.equal((await readPublishBody(body(nested), roomy)).length, 1);
  });
  it("count depth outside strings only", () => {
    assert.equal(jsonDepthWithin('{"data":"[[[[[[[[[[[["}', 1), true);
    assert.equal(jsonDepthWithin('{"data":"\\"[[[["}', 1), true, "an escaped quote stays inside");
    assert.equal(jsonDepthWithin('[{"a":[1]}]', 3), true);
    assert.equal(jsonDepthWithin('[{"a":[1]}]', 2), false);
  });
  it("bound the whole event, name and data together (413)", async () => {
    const small = { maxEventBytes: 20, maxEvents: 2 };
    assert.equal(
      (await readPublishBody(body('{"event":"0123456789","data":"0123456789"}'), small))
        .length,
      1,
    );
    await assert.rejects(
      readPublishBody(body('{"event":"0123456789","data":"01234567890"}'), small),
      refusedWith("event-too-large", 413),
    );
  });
  it("refuse an event name that is long, has a control character or forges the hub's events", async () => {
    const roomy = { maxEventBytes: 1_000_000, maxEvents: 2 };
    const named = (event: string) => JSON.stringify({ event, data: "x" });
    assert.equal(
      (await readPublishBody(body(named("é".repeat(MAX_EVENT_NAME_BYTES / 2))), roomy)).length,
      1,
    );
    for (
      const name of [
        "E".repeat(MAX_EVENT_NAME_BYTES + 1),
        "é".repeat(MAX_EVENT_NAME_BYTES / 2 + 1),
        // As JSON escapes: what arrives is the character itself, not a backslash.
        "a\\u0000b",
        "a\\rb",
        "tab\\there",
        "del\\u007f",
        "c1\\u0085",
        "lone\\ud800",
        "herald.history-lost",
        "HERALD.end",
      ]
    ) {
      const text = `{"event":"${name}","data":"x"}`;
      await assert.rejects(
        readPublishBody(body(text), roomy),
        refusedWith("body-invalid", 400),
        name,
      );
    }
    // Five MiB of event name: refused, not stored where every client would choke on it.
    await assert.rejects(
      readPublishBody(body(named("E".repeat(5 * 1024 * 1024))), {
        maxEventBytes: 65536,
        maxEvents: 1,
      }),
      (error: unknown) => error instanceof ServerError && error.status < 500,
    );
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
  it("count every delivery of a subscription, with a lag for live events only", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const metrics = new Metrics();
    // A reader that got the first event and left: its cursor is that event's id.
    const early = (await hub.subscribe({ topics: ["lag"] })).getReader();
    await early.read(); // the id-only block a fresh subscription opens with
    await hub.publish("lag", [{ data: "old" }, { data: "also old" }]);
    const cursor = (await early.read()).value!.id!;
    await early.cancel();
    const options = {
      topics: ["lag"],
      response: { keepAliveMs: 0 },
      metrics,
      release: () => {},
      now: Date.now,
      logger: console,
    };
    // Resume from it: the second event is replayed, then "live" is delivered live.
    const response = await subscriptionResponse(
      hub,
      new Request("http://x/v1/events", { headers: { "last-event-id": cursor } }),
      options,
    );
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const read = async (needle: string) => {
      while (!text.includes(needle)) text += (await reader.read()).value ?? "";
    };
    await read("also old");
    await hub.publish("lag", { data: "live" });
    await read("live");
    await reader.cancel();
    assert.equal(metrics.delivered, 2);
    assert.match(metrics.render(), /^herald_delivery_lag_seconds_count 1$/m, "replays have no lag");
  });
});

describe("the app in-process", () => {
  const appWith = (env: Record<string, string>) => {
    const config = loadConfig(env);
    return createApp({ config, hub: memoryHub(config, CURSOR_SECRET), brokerName: "memory" });
  };
  const METRICS_KEY = "units-metrics-key-0123456789-abcdefgh";

  it("guards /metrics with HERALD_METRICS_KEY when it is set", async () => {
    const app = appWith({ ...SECRETS, HERALD_METRICS_KEY: METRICS_KEY });
    const get = (headers: Record<string, string>) =>
      app.fetch(new Request("http://127.0.0.1/metrics", { headers }), {});
    const open = await get({});
    assert.equal(open.status, 401);
    assert.equal((await open.json()).error.code, "metrics-key-invalid");
    const wrong = await get({ authorization: `Bearer ${METRICS_KEY}X` });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const right = await get({ authorization: `Bearer ${METRICS_KEY}` });
    assert.equal(right.status, 200);
    assert.match(
      await right.text(),
      /^herald_requests_refused_total\{code="metrics-key-invalid"\} 2$/m,
    );
  });
  it("answers a method a route does not take with 405 and Allow, and HEAD /v1/events too", async () => {
    const app = appWith(SECRETS);
    for (
      const [method, path, allow] of [
        ["HEAD", "/v1/events?topic=a", "GET"],
        ["POST", "/v1/events?topic=a", "GET"],
        ["DELETE", "/v1/events", "GET"],
        ["GET", "/v1/topics/a", "POST"],
        ["PUT", "/v1/topics/a", "POST"],
        ["POST", "/healthz", "GET, HEAD"],
        ["DELETE", "/metrics", "GET, HEAD"],
        ["PATCH", "/", "GET, HEAD"],
      ]
    ) {
      const response = await app.fetch(new Request(`http://127.0.0.1${path}`, { method }), {});
      assert.equal(response.status, 405, `${method} ${path}`);
      assert.equal(response.headers.get("allow"), allow, `${method} ${path}`);
      if (method !== "HEAD") {
        assert.equal((await response.json()).error.code, "method-not-allowed");
      } else await response.body?.cancel();
    }
    const head = await app.fetch(new Request("http://127.0.0.1/healthz", { method: "HEAD" }), {});
    assert.equal(head.status, 200, "HEAD of a plain GET route is answered");
    await head.body?.cancel();
    const gone = await app.fetch(
      new Request("http://127.0.0.1/v1/dev/session", { method: "GET" }),
      {},
    );
    assert.equal(gone.status, 404, "no dev route at all when dev mode is off");
    await gone.body?.cancel();
  });
  it("answers 413 for an event the hub finds too large as written (data of many short lines)", async () => {
    const app = appWith({ ...SECRETS, HERALD_MAX_EVENT_BYTES: String(MAX_EVENT_BYTES_LIMIT) });
    // 900,000 line breaks pass the server's count (name and data), but each is a `data: ` line on
    // the wire: seven times that, past what any default client reads.
    const response = await app.fetch(
      new Request("http://127.0.0.1/v1/topics/lines", {
        method: "POST",
        headers: { authorization: `Bearer ${KEY_1}`, "content-type": "application/json" },
        body: JSON.stringify({ data: "\n".repeat(900_000) }),
      }),
      {},
    );
    assert.equal(response.status, 413);
    assert.equal((await response.json()).error.code, "event-too-large");
  });
  it("gives a dev session the public dev key, never a configured one", async () => {
    const app = appWith({ HERALD_DEV_MODE: "true" });
    const response = await app.fetch(
      new Request("http://127.0.0.1/v1/dev/session", { method: "POST" }),
      {},
    );
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.publisherKey, DEV_PUBLISHER_KEY);
    assert.deepEqual(body.topics, ["*"]);
  });
  it("serves the page with a Content-Security-Policy that pins its inline script", async () => {
    const app = appWith(SECRETS);
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
