// The reference server under attack, end to end: the real entry file started as a process on the
// host's runtime (Deno under `deno test`, Bun under `bun test`), on 127.0.0.1, in non-dev mode,
// configured as the nginx recipe of docs/deploy.md (loopback HOST, real secrets, a trusted proxy,
// so X-Forwarded-For stands for the client's address). Each test is named after what it pins.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect as connectTcp, type Socket } from "node:net";
import { signToken, type TokenClaims } from "../../examples/server/jwt.ts";
import { DEV_PUBLISHER_KEY } from "../../examples/server/config.ts";
import {
  type EventStream,
  postJson,
  type Refusal,
  subscribeOrRefusal,
} from "../support/reference_client.ts";
import { type ReferenceServer, startReferenceServer } from "../support/reference_server.ts";
import { runtime } from "../support/runtime.ts";

const SECRET = "security-test-secret-0123456789-abcdef";
const KEY = "security-test-publisher-key-0123456789";

/** The nginx recipe, with small limits so each one is reached in a few requests. */
const ENV: Record<string, string> = {
  HOST: "127.0.0.1",
  HERALD_JWT_SECRET: SECRET,
  HERALD_PUBLISHER_KEYS: KEY,
  HERALD_TRUST_PROXY: "true",
  HERALD_KEEP_ALIVE_MS: "500",
  HERALD_RETRY_MS: "200",
  HERALD_MAX_CONNECTIONS_PER_TOKEN: "1",
  HERALD_SUBSCRIBE_BURST: "3",
  HERALD_SUBSCRIBE_RATE_PER_SECOND: "0.01",
  HERALD_ADDRESS_SUBSCRIBE_BURST: "5",
  HERALD_ADDRESS_SUBSCRIBE_RATE_PER_SECOND: "0.01",
  HERALD_AUTH_FAILURE_BURST: "5",
  HERALD_AUTH_FAILURE_RATE_PER_SECOND: "0.01",
  HERALD_PUBLISH_BURST: "1000",
};

let nextAddress = 1;
/** A client address of its own for each use (X-Forwarded-For, trusted), so limits of one test
 * never touch another. */
const freshAddress = () => {
  const n = nextAddress++;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
};
let topicCounter = 0;
const freshTopic = () => `sec.${runtime}.${Date.now().toString(36)}${topicCounter++}`;

function mint(claims: Partial<TokenClaims> & { topics: string[] }): Promise<string> {
  const exp = Math.floor(Date.now() / 1000) + 600;
  return signToken({ exp, ...claims, iat: Date.now() + Math.random() }, SECRET);
}

const base64url = (text: string) =>
  btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** A token with any header and claims, correctly signed with the server's secret. */
async function signRaw(header: unknown, claims: unknown): Promise<string> {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
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
  return `${input}.${base64url(String.fromCharCode(...mac))}`;
}

function stream(result: EventStream | Refusal): EventStream {
  if ("code" in result) {
    throw new Error(`expected a stream, got ${result.status} ${result.code}: ${result.message}`);
  }
  return result;
}

function refusal(result: EventStream | Refusal): Refusal {
  if (!("code" in result)) {
    result.close();
    throw new Error("expected a refusal, got a stream");
  }
  return result;
}

describe(`reference server security on ${runtime}`, { timeout: 240_000 }, () => {
  let server: ReferenceServer;
  const open: EventStream[] = [];

  const subscribe = async (
    topic: string,
    token: string | undefined,
    headers: Record<string, string> = {},
  ) => {
    const result = await subscribeOrRefusal(server.url, `topic=${encodeURIComponent(topic)}`, {
      "x-forwarded-for": freshAddress(),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    });
    if (!("code" in result)) open.push(result);
    return result;
  };
  const publish = (topic: string, body: unknown, headers: Record<string, string> = {}) =>
    postJson(server.url, `/v1/topics/${encodeURIComponent(topic)}`, body, {
      authorization: `Bearer ${KEY}`,
      "x-forwarded-for": freshAddress(),
      ...headers,
    });
  const metric = async (name: string) => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const match = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
    assert.ok(match, `no ${name}`);
    return Number(match[1]);
  };

  before(async () => {
    server = await startReferenceServer(runtime === "bun" ? "bun" : "deno", { env: ENV });
  });
  after(async () => {
    for (const s of open) s.close();
    await server?.stop();
  });

  it("serves no dev session behind the nginx recipe (loopback HOST, real secrets, a proxy)", async () => {
    for (const method of ["POST", "GET"]) {
      const response = await fetch(`${server.url}/v1/dev/session`, {
        method,
        headers: { "x-forwarded-for": freshAddress() },
      });
      assert.equal(response.status, 404, method);
      const body = await response.text();
      assert.equal(body.includes(KEY), false, "the configured key never leaves the server");
    }
  });

  it("answers HEAD /v1/events with 405 and Allow, without opening a stream", async () => {
    const topic = freshTopic();
    const token = await mint({ topics: [topic] });
    const openedBefore = await metric("herald_connections_opened_total");
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${server.url}/v1/events?topic=${topic}`, {
        method: "HEAD",
        headers: { authorization: `Bearer ${token}`, "x-forwarded-for": freshAddress() },
      });
      assert.equal(response.status, 405);
      assert.equal(response.headers.get("allow"), "GET");
      await response.body?.cancel();
    }
    assert.equal(await metric("herald_connections_opened_total"), openedBefore);
    // One connection per token here: had a HEAD opened a stream, this GET would be refused.
    const s = stream(await subscribe(topic, token));
    await publish(topic, { data: "after the HEADs" });
    assert.equal((await s.next()).data, "after the HEADs");
    s.close();
  });

  it("answers a method a route does not take with 405 and Allow", async () => {
    for (
      const [method, path, allow] of [
        ["POST", "/v1/events?topic=a", "GET"],
        ["PUT", "/v1/topics/a", "POST"],
        ["GET", "/v1/topics/a", "POST"],
        ["DELETE", "/healthz", "GET, HEAD"],
      ]
    ) {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { "x-forwarded-for": freshAddress() },
      });
      assert.equal(response.status, 405, `${method} ${path}`);
      assert.equal(response.headers.get("allow"), allow);
      assert.equal((await response.json()).error.code, "method-not-allowed");
    }
  });

  it("throttles failed authentication per address: 429 with Retry-After, other addresses untouched", async () => {
    const attacker = freshAddress();
    const topic = freshTopic();
    const statuses: number[] = [];
    // 200 wrong keys at once from one address: at most the burst (5) get as far as a key check.
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        publish(topic, { data: i }, {
          authorization: `Bearer ${KEY.slice(0, -1)}${i % 10}`,
          "x-forwarded-for": attacker,
        })),
    );
    for (const answer of answers) statuses.push(answer.status);
    const unauthorized = statuses.filter((s) => s === 401).length;
    const throttled = answers.filter((a) => a.status === 429);
    assert.ok(unauthorized <= 5 + 10, `${unauthorized} wrong keys were checked`);
    assert.ok(throttled.length >= 150, `${throttled.length} of 200 throttled`);
    assert.equal((throttled[0].body.error as { code: string }).code, "too-many-auth-failures");
    assert.ok(Number(throttled[0].headers.get("retry-after")) >= 1);
    // The right key from that address waits too; from another address it works.
    const right = await publish(topic, { data: "x" }, { "x-forwarded-for": attacker });
    assert.equal(right.status, 429);
    const token = await mint({ topics: [topic] });
    const sub = refusal(await subscribe(topic, token, { "x-forwarded-for": attacker }));
    assert.deepEqual([sub.status, sub.code], [429, "too-many-auth-failures"]);
    const elsewhere = await publish(topic, { data: "x" });
    assert.equal(elsewhere.status, 200);
  });

  it("counts wrong tokens as failed authentication too", async () => {
    const attacker = freshAddress();
    const topic = freshTopic();
    const codes: string[] = [];
    for (let i = 0; i < 8; i++) {
      codes.push(
        refusal(await subscribe(topic, `not.a.token${i}`, { "x-forwarded-for": attacker })).code,
      );
    }
    assert.deepEqual(codes.slice(0, 5), Array(5).fill("token-invalid"));
    assert.deepEqual(codes.slice(5), Array(3).fill("too-many-auth-failures"));
  });

  it("limits subscribe requests per token (429 too-many-subscribes), other tokens untouched", async () => {
    const topic = freshTopic();
    const token = await mint({ topics: [topic] });
    for (let i = 0; i < 3; i++) {
      // Each from its own address: this is the token's limit, not an address's.
      const s = stream(await subscribe(topic, token));
      s.close();
      // The one connection slot of the token comes back once the server notices.
      await waitUntilOpen(async () => await metric("herald_connections_open") === 0);
    }
    const fourth = refusal(await subscribe(topic, token));
    assert.deepEqual([fourth.status, fourth.code], [429, "too-many-subscribes"]);
    assert.ok(Number(fourth.headers.get("retry-after")) >= 1);
    assert.match(fourth.message, /HERALD_SUBSCRIBE_BURST/);
    const other = stream(await subscribe(topic, await mint({ topics: [topic] })));
    other.close();
  });

  it("limits subscribe requests per address (429 too-many-subscribes), other addresses untouched", async () => {
    const topic = freshTopic();
    const address = freshAddress();
    const held: EventStream[] = [];
    for (let i = 0; i < 5; i++) {
      held.push(
        stream(
          await subscribe(topic, await mint({ topics: [topic] }), { "x-forwarded-for": address }),
        ),
      );
    }
    const sixth = refusal(
      await subscribe(topic, await mint({ topics: [topic] }), { "x-forwarded-for": address }),
    );
    assert.deepEqual([sixth.status, sixth.code], [429, "too-many-subscribes"]);
    assert.match(sixth.message, /HERALD_ADDRESS_SUBSCRIBE_BURST/);
    const elsewhere = stream(await subscribe(topic, await mint({ topics: [topic] })));
    elsewhere.close();
    for (const s of held) s.close();
  });

  it("ends an open stream at its token's exp; the client re-authenticates and resumes by cursor", async () => {
    const topic = freshTopic();
    const exp = Math.floor(Date.now() / 1000) + 3;
    const token = await mint({ topics: [topic], exp });
    const s = stream(await subscribe(topic, token));
    await publish(topic, { data: "one" });
    const one = await s.next();
    assert.equal(one.data, "one");
    await assert.rejects(s.next(15_000), /the stream ended/, "a clean end, not a cut or a hang");
    assert.ok(Date.now() >= exp * 1000 - 50, "not before the token expired");
    await publish(topic, { data: "two" });
    const stale = refusal(
      await subscribe(topic, token, { "last-event-id": one.lastEventId }),
    );
    assert.deepEqual([stale.status, stale.code], [401, "token-expired"]);
    const again = stream(
      await subscribe(topic, await mint({ topics: [topic] }), { "last-event-id": one.lastEventId }),
    );
    assert.equal((await again.next()).data, "two", "nothing lost across the expiry");
    again.close();
  });

  it("signs cursors without HERALD_CURSOR_SECRET set: an edited or unsigned cursor is refused", async () => {
    const topic = freshTopic();
    const s = stream(await subscribe(topic, await mint({ topics: [topic] })));
    await publish(topic, [{ data: "a" }, { data: "b" }]);
    await s.next();
    const b = await s.next();
    s.close();
    const [cursor, signature] = b.lastEventId.split("~");
    assert.ok(signature, `the id carries a signature: ${b.lastEventId}`);
    // Rewind the cursor to the start of the topic's history: what a reader of everything would do.
    const parts = cursor.split(".");
    parts[parts.length - 1] = "0";
    const rewound = parts.join(".");
    for (const edited of [`${rewound}~${signature}`, rewound, cursor]) {
      const refused = refusal(
        await subscribe(topic, await mint({ topics: [topic] }), { "last-event-id": edited }),
      );
      assert.deepEqual([refused.status, refused.code], [400, "cursor-invalid"], edited);
    }
    const honest = stream(
      await subscribe(topic, await mint({ topics: [topic] }), { "last-event-id": b.lastEventId }),
    );
    await publish(topic, { data: "c" });
    assert.equal((await honest.next()).data, "c");
    honest.close();
  });

  it("refuses a resume cursor longer than any it makes before verifying it, holding nothing", async () => {
    const topic = freshTopic();
    const before = server.rssBytes();
    for (let i = 0; i < 1500; i++) {
      // Distinct, long, made-up cursors (14 KB fits every runtime's header limit).
      const cursor = `h1.${i}.` + "x".repeat(14_000);
      const refused = refusal(
        await subscribe(topic, await mint({ topics: [topic] }), { "last-event-id": cursor }),
      );
      assert.deepEqual([refused.status, refused.code], [400, "cursor-invalid"]);
    }
    const after = server.rssBytes();
    if (before !== undefined && after !== undefined) {
      // Remembering each of them would take 40 MiB and more.
      assert.ok(
        after - before < 24 * 2 ** 20,
        `grew ${Math.round((after - before) / 2 ** 20)} MiB`,
      );
    }
  });

  it("answers a 1,000,000-deep JSON body with 400 body-invalid, not a crash", async () => {
    const topic = freshTopic();
    for (
      const body of [
        "[".repeat(1_000_000) + "]".repeat(1_000_000),
        `{"data":${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}}`,
      ]
    ) {
      const answer = await publish(topic, body);
      assert.equal(answer.status, 400);
      assert.equal((answer.body.error as { code: string }).code, "body-invalid");
    }
    assert.equal((await publish(topic, { data: "still fine" })).status, 200);
  });

  it("refuses event names that would break clients or forge the hub's events; data still flows", async () => {
    const topic = freshTopic();
    const s = stream(await subscribe(topic, await mint({ topics: [topic] })));
    const refused = [
      { event: "E".repeat(5 * 1024 * 1024), data: "small" },
      { event: "herald.history-lost", data: { reason: "trimmed" } },
      { event: "a\u0000b", data: 1 },
      { event: "tab\there", data: 1 },
    ];
    for (const body of refused) {
      const answer = await publish(topic, body);
      assert.equal(answer.status, 400, body.event.slice(0, 20));
      assert.equal((answer.body.error as { code: string }).code, "body-invalid");
    }
    // Name and data together are bounded by HERALD_MAX_EVENT_BYTES (65536 here).
    const over = await publish(topic, { event: "n".repeat(200), data: "d".repeat(65_400) });
    assert.deepEqual([over.status, (over.body.error as { code: string }).code], [
      413,
      "event-too-large",
    ]);
    await publish(topic, { event: "ok", data: "after the refusals" });
    const next = await s.next();
    assert.deepEqual([next.event, next.data], ["ok", "after the refusals"]);
    s.close();
  });

  it("refuses tokens with crit, a non-numeric exp or nbf, or topics: [] (401 token-invalid)", async () => {
    const topic = freshTopic();
    const exp = Math.floor(Date.now() / 1000) + 600;
    const header = { alg: "HS256", typ: "JWT" };
    for (
      const token of await Promise.all([
        signRaw({ ...header, crit: ["exp"] }, { topics: [topic], exp }),
        signRaw(header, { topics: [topic], exp: String(exp) }),
        signRaw(header, { topics: [topic], exp, nbf: "0" }),
        signRaw(header, { topics: [], exp }),
      ])
    ) {
      const refused = refusal(await subscribe(topic, token));
      assert.deepEqual([refused.status, refused.code], [401, "token-invalid"], refused.message);
    }
    stream(await subscribe(topic, await signRaw(header, { topics: [topic], exp }))).close();
  });

  it("matches a token's *a*a*a*a*a*b pattern against 128 a's at once (no backtracking)", async () => {
    const pattern = { topics: ["*a*a*a*a*a*b"] };
    const tokens = await Promise.all(Array.from({ length: 5 }, () => mint(pattern)));
    const started = Date.now();
    const answers = await Promise.all(tokens.map((token) => subscribe("a".repeat(128), token)));
    for (const answer of answers) {
      const refused = refusal(answer);
      assert.deepEqual([refused.status, refused.code], [403, "topic-forbidden"]);
    }
    // A backtracking matcher took 42 s for one of these; a linear one takes microseconds.
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
    const allowed = stream(await subscribe("a".repeat(127) + "b", await mint(pattern)));
    allowed.close();
  });

  it("prints no legacy-abort warning on Deno (the app never reads request.signal)", {
    skip: runtime !== "deno" && "the warning is Deno's",
  }, async () => {
    const topic = freshTopic();
    const s = stream(await subscribe(topic, await mint({ topics: [topic] })));
    await publish(topic, { data: "x" });
    await s.next();
    s.close();
    await fetch(`${server.url}/healthz`).then((r) => r.body?.cancel());
    await new Promise((r) => setTimeout(r, 500));
    assert.doesNotMatch(server.output(), /legacy behavior|request\.signal/);
  });

  it("closes sockets that trickle their request headers (slowloris) on Bun", {
    skip: runtime !== "bun" &&
      "Deno.serve has no header-read timeout to enforce; docs/deploy.md requires a reverse proxy",
  }, async () => {
    const sockets: Socket[] = [];
    const closed: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      const socket = connectTcp(server.port, "127.0.0.1");
      sockets.push(socket);
      closed.push(new Promise((resolve) => socket.once("close", () => resolve())));
      socket.on("error", () => {/* reset by the server: what we wait for */});
      socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    }
    const started = Date.now();
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 40_000));
    const outcome = await Promise.race([Promise.all(closed).then(() => "closed"), timeout]);
    for (const socket of sockets) socket.destroy();
    assert.equal(outcome, "closed", "every slow socket closed by the server");
    assert.ok(Date.now() - started < 40_000);
  });
});

describe(`reference server start-up refusals on ${runtime}`, { timeout: 120_000 }, () => {
  const target = runtime === "bun" ? "bun" : "deno";

  it("refuses to start in dev mode next to real secrets, naming them", async () => {
    await assert.rejects(
      startReferenceServer(target, {
        env: { HERALD_DEV_MODE: "true", HERALD_JWT_SECRET: SECRET },
        readyTimeoutMs: 20_000,
      }),
      /exited \(1\)[\s\S]*HERALD_DEV_MODE=true[\s\S]*HERALD_JWT_SECRET/,
    );
  });

  it("refuses to start with a publisher or metrics key shorter than 32 characters", async () => {
    for (
      const [name, env] of [
        ["HERALD_PUBLISHER_KEYS", { HERALD_JWT_SECRET: SECRET, HERALD_PUBLISHER_KEYS: "a" }],
        ["HERALD_METRICS_KEY", {
          HERALD_JWT_SECRET: SECRET,
          HERALD_PUBLISHER_KEYS: KEY,
          HERALD_METRICS_KEY: "short",
        }],
      ] as const
    ) {
      await assert.rejects(
        startReferenceServer(target, { env, readyTimeoutMs: 20_000 }),
        new RegExp(`exited \\(1\\)[\\s\\S]*${name}[\\s\\S]*at least 32`),
      );
    }
  });

  it("hands a dev session only the public dev key, and only with HERALD_DEV_MODE=true", async () => {
    const server = await startReferenceServer(target, { env: { HERALD_DEV_MODE: "true" } });
    try {
      const session = await postJson(server.url, "/v1/dev/session", "");
      assert.equal(session.status, 200);
      assert.equal(session.body.publisherKey, DEV_PUBLISHER_KEY);
    } finally {
      await server.stop();
    }
  });
});

/** Polls `check` until it holds (a server notices a disconnect asynchronously). */
async function waitUntilOpen(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("the server never noticed the client leave");
    await new Promise((r) => setTimeout(r, 50));
  }
}
