// A seeded, time-bounded fuzz of the reference server: random tokens, topics, cursors, publish
// bodies, methods and paths, from thousands of client addresses, into the real server process on
// 127.0.0.1 (the host's runtime; workerd too under the Deno host). Every answer must be a success
// or a typed refusal (JSON `{ error: { code, message } }` with a known code and a 4xx status),
// never a 5xx; the server's memory must level off; and once every client has left, nothing may be
// held. A failure prints its seed: HERALD_FUZZ_SEED=<seed> replays it; HERALD_FUZZ_MS sets the
// time per server (default 15 s).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { signToken } from "../../examples/server/jwt.ts";
import {
  type ReferenceServer,
  type ServerRuntime,
  startReferenceServer,
} from "../support/reference_server.ts";
import { type Random, seededRandom } from "../support/random.ts";
import { runtime } from "../support/runtime.ts";

const SECRET = "fuzz-test-secret-0123456789-abcdefghij";
const KEY = "fuzz-test-publisher-key-0123456789-abc";
const SEED = Number(process.env.HERALD_FUZZ_SEED ?? 0x5e1f2026);
const BUDGET_MS = Number(process.env.HERALD_FUZZ_MS ?? 15_000);
const MAX_REQUESTS = 20_000;
const IN_FLIGHT = 8;
/** The server's resident size is sampled every this many requests. */
const SAMPLE_EVERY = 1000;

/** Every refusal code of the reference server (examples/server/errors.ts), with its status. */
const CODES: Record<string, number> = {
  "token-missing": 401,
  "token-invalid": 401,
  "token-expired": 401,
  "token-not-yet-valid": 401,
  "publisher-key-invalid": 401,
  "metrics-key-invalid": 401,
  "topic-forbidden": 403,
  "topic-invalid": 400,
  "topics-missing": 400,
  "too-many-topics": 400,
  "cursor-invalid": 400,
  "body-invalid": 400,
  "event-too-large": 413,
  "too-many-connections-per-token": 429,
  "too-many-connections-per-address": 429,
  "rate-limited": 429,
  "too-many-subscribes": 429,
  "too-many-auth-failures": 429,
  "not-found": 404,
  "method-not-allowed": 405,
};

const ENV: Record<string, string> = {
  HOST: "127.0.0.1",
  HERALD_JWT_SECRET: SECRET,
  HERALD_PUBLISHER_KEYS: KEY,
  HERALD_TRUST_PROXY: "true",
  HERALD_KEEP_ALIVE_MS: "1000",
  HERALD_MAX_EVENT_BYTES: "4096",
  HERALD_MAX_EVENTS_PER_PUBLISH: "20",
  HERALD_PUBLISH_BURST: "200",
  HERALD_PUBLISH_RATE_PER_SECOND: "200",
};

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const text64 = (text: string) => b64url(new TextEncoder().encode(text));

/** Hostile text: printable, control characters, lone surrogates, emoji, JSON and URL syntax. */
function hostileText(random: Random, maxLength: number): string {
  const pieces = [
    "a",
    "Z",
    "0",
    ".",
    "*",
    "~",
    "-",
    "_",
    ":",
    "/",
    "%",
    "%00",
    "%ZZ",
    "\u0000",
    "\r",
    "\n",
    "\t",
    "\u007f",
    "\u0085",
    "\ud800",
    "\udc00",
    "😀",
    "é",
    '"',
    "\\",
    "{",
    "[",
    "]",
    "}",
    ",",
    "herald.",
    "h1.",
    " ",
  ];
  const length = random.next() < 0.05 ? maxLength : random.int(Math.min(maxLength, 40) + 1);
  let out = "";
  while (out.length < length) out += random.pick(pieces);
  return out.slice(0, length);
}

/** A random JSON value, sometimes nested past the server's depth limit. */
function randomValue(random: Random, depth: number): unknown {
  const kind = random.int(depth > 90 ? 4 : 7);
  switch (kind) {
    case 0:
      return random.int(2) === 0 ? null : random.next() < 0.5;
    case 1:
      return random.pick([0, -1, 1e308, -0, 0.5, 2 ** 53 + 1]);
    case 2:
    case 3:
      return hostileText(random, random.next() < 0.02 ? 6000 : 200);
    case 4:
    case 5:
      return Array.from(
        { length: random.int(3) + (depth > 40 ? 1 : 0) },
        () => randomValue(random, depth + 1),
      );
    default: {
      const object: Record<string, unknown> = {};
      for (let i = random.int(3); i >= 0; i--) {
        object[hostileText(random, 8)] = randomValue(random, depth + 1);
      }
      return object;
    }
  }
}

/** A deep chain, to reach the depth limit without building a huge random value. */
function deepValue(random: Random): string {
  const depth = 40 + random.int(60);
  return "[".repeat(depth) + JSON.stringify(hostileText(random, 10)) + "]".repeat(depth);
}

function randomEvent(random: Random): unknown {
  const event: Record<string, unknown> = {};
  if (random.next() < 0.6) {
    event.event = random.next() < 0.5 ? random.pick(["msg", "greet", "herald.end"]) : hostileText(
      random,
      random.next() < 0.05 ? 400 : 30,
    );
  }
  if (random.next() < 0.95) event.data = randomValue(random, 1);
  if (random.next() < 0.05) event[random.pick(["id", "retry", "extra"])] = "x";
  return event;
}

function randomBody(random: Random): BodyInit {
  switch (random.int(10)) {
    case 0:
      return new Uint8Array(Array.from({ length: random.int(200) }, () => random.int(256)));
    case 1:
      return JSON.stringify(randomEvent(random)).slice(0, -1 - random.int(5)); // truncated
    case 2:
      return `{"data":${deepValue(random)}}`;
    case 3:
      return JSON.stringify(Array.from({ length: random.int(30) }, () => randomEvent(random)));
    case 4:
      return JSON.stringify(randomValue(random, 0));
    default:
      return JSON.stringify(randomEvent(random));
  }
}

/** The state the fuzzer learns as it goes: real cursors, to mutate. */
interface Seen {
  cursors: string[];
}

function mutate(random: Random, text: string): string {
  if (text.length === 0) return hostileText(random, 20);
  const at = random.int(text.length);
  switch (random.int(6)) {
    case 0:
      return text.slice(0, at) + hostileText(random, 3) + text.slice(at + 1);
    case 1:
      return text.slice(0, at);
    case 2:
      return text + random.pick(["~", "~AAAA", ".0", "-1", text]);
    case 3:
      return text.replace(/[0-9a-z]/, random.pick(["0", "z", "Z", "-"]));
    case 4:
      return text.split("~")[0];
    default:
      return text.repeat(1 + random.int(30)).slice(0, 9000);
  }
}

async function randomToken(random: Random): Promise<string | undefined> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const patterns = () =>
    Array.from(
      { length: random.int(4) },
      () =>
        random.pick(["*", "fuzz.*", "fuzz.a", "*a*a*a*a*b", "f*.*", hostileText(random, 12), ""]),
    );
  switch (random.int(8)) {
    case 0:
      return undefined;
    case 1:
      return hostileText(random, random.next() < 0.1 ? 9000 : 60);
    case 2: {
      const header = random.pick([
        { alg: "HS256" },
        { alg: "none" },
        { alg: "HS256", crit: ["exp"] },
        { alg: "RS256" },
        [],
        null,
      ]);
      const claims = random.next() < 0.5 ? randomValue(random, 0) : {
        topics: patterns(),
        exp: random.pick([nowSeconds + 600, String(nowSeconds + 600), null, -1e300, 1e300]),
        nbf: random.pick([undefined, 0, "0", 1e300, nowSeconds + 600]),
      };
      return `${text64(JSON.stringify(header))}.${text64(JSON.stringify(claims))}.${
        hostileText(random, 43)
      }`;
    }
    case 3: {
      const token = await signToken(
        { topics: patterns(), exp: nowSeconds + 600, iat: random.next() },
        SECRET,
      );
      return mutate(random, token);
    }
    default:
      return signToken(
        {
          topics: patterns().length ? patterns() : ["fuzz.*"],
          exp: nowSeconds - 10 + random.int(700),
          ...(random.next() < 0.2 ? { nbf: nowSeconds + random.int(20) - 10 } : {}),
          iat: random.next(),
        },
        SECRET,
      );
  }
}

function randomTopics(random: Random): string {
  const count = random.next() < 0.05 ? 15 : random.int(4);
  const topics = Array.from(
    { length: count },
    () =>
      random.next() < 0.7
        ? random.pick(["fuzz.a", "fuzz.b", "fuzz.c", "a".repeat(128), "fuzz"])
        : hostileText(random, random.next() < 0.05 ? 3000 : 30),
  );
  return topics.map((t) => `topic=${urlPart(random, t)}`).join("&");
}

/** Text every runtime's fetch sends as a header value: printable ASCII, trimmed; anything else
 * becomes `?` (clients refuse it before it leaves, so it can't reach the server). */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").trim();
}

/** A URL part: percent-encoded, or raw (the URL parser then encodes what it must). */
function urlPart(random: Random, text: string): string {
  const wellFormed = text.toWellFormed();
  return random.next() < 0.8 ? encodeURIComponent(wellFormed) : wellFormed.replace(/[#?&]/g, "");
}

/**
 * Sends a request built from fuzzed parts. A request the client side can't even build is skipped;
 * once built, any failure to get an answer (a reset connection, a crash) fails the test.
 */
async function send(url: string, init: RequestInit): Promise<Response | undefined> {
  let request: Request;
  try {
    request = new Request(url, init);
  } catch {
    return undefined;
  }
  return await fetch(request);
}

interface Outcome {
  request: string;
  status: number;
  code?: string;
}

async function check(request: string, response: Response, method: string): Promise<Outcome> {
  const { status } = response;
  if (status === 200 && (response.headers.get("content-type") ?? "").startsWith("text/event")) {
    await response.body?.cancel();
    return { request, status };
  }
  const text = await response.text();
  assert.ok(status < 500, `${request} answered ${status}: ${text.slice(0, 300)}`);
  if (status < 400 || method === "HEAD") return { request, status };
  // The runtime's own HTTP server refuses an oversized URL or header block before the app sees
  // it (Bun: 431), with no body of ours.
  if (status === 414 || status === 431) return { request, status };
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = JSON.parse(text).error;
  } catch {
    assert.fail(
      `${request} answered ${status} with a body that is not JSON: ${text.slice(0, 200)}`,
    );
  }
  assert.ok(error && typeof error.code === "string", `${request}: no error code in ${text}`);
  assert.equal(CODES[error.code], status, `${request}: ${error.code} with status ${status}`);
  assert.ok(typeof error.message === "string" && error.message.length > 10, request);
  return { request, status, code: error.code };
}

async function fuzzOnce(
  server: ReferenceServer,
  random: Random,
  seen: Seen,
  address: string,
): Promise<Outcome> {
  const kind = random.int(10);
  if (kind < 5) {
    const token = await randomToken(random);
    const headers: Record<string, string> = { "x-forwarded-for": address };
    let query = randomTopics(random);
    if (token !== undefined) {
      const where = random.int(3);
      if (where === 0) headers.authorization = headerSafe(`Bearer ${token}`);
      else if (where === 1) query += `&token=${urlPart(random, token)}`;
      else headers.cookie = headerSafe(`herald_token=${urlPart(random, token)}`);
    }
    if (random.next() < 0.6) {
      const cursor = seen.cursors.length && random.next() < 0.8
        ? mutate(random, random.pick(seen.cursors))
        : hostileText(random, 200);
      if (random.next() < 0.5) headers["last-event-id"] = headerSafe(cursor);
      else query += `&lastEventId=${urlPart(random, cursor)}`;
    }
    const method = random.next() < 0.05 ? "HEAD" : "GET";
    const response = await send(`${server.url}/v1/events?${query}`, { method, headers });
    if (!response) return { request: "unsendable", status: 0 };
    return check(`${method} /v1/events?${query.slice(0, 200)}`, response, method);
  }
  if (kind < 9) {
    const topic = random.next() < 0.8 ? random.pick(["fuzz.a", "fuzz.b"]) : hostileText(random, 40);
    const key = random.next() < 0.85
      ? KEY
      : random.pick(["", "x", KEY + "x", hostileText(random, 40)]);
    const headers: Record<string, string> = {
      "x-forwarded-for": address,
      "content-type": random.pick(["application/json", "text/plain", "application/x-www-form"]),
    };
    if (key) headers.authorization = headerSafe(`Bearer ${key}`);
    const path = `/v1/topics/${urlPart(random, topic)}`;
    const response = await send(`${server.url}${path}`, {
      method: "POST",
      headers,
      body: randomBody(random),
    });
    if (!response) return { request: "unsendable", status: 0 };
    return check(`POST ${path.slice(0, 100)}`, response, "POST");
  }
  const method = random.pick(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "POST", "HEAD"]);
  const path = random.pick([
    "/",
    "/healthz",
    "/metrics",
    "/v1/events",
    "/v1/topics/fuzz.a",
    "/v1/dev/session",
    "/v1/demo/answers/zz/cancel",
    `/${urlPart(random, hostileText(random, 30))}`,
  ]);
  const response = await send(`${server.url}${path}`, {
    method,
    headers: { "x-forwarded-for": address },
  });
  if (!response) return { request: "unsendable", status: 0 };
  return check(`${method} ${path}`, response, method);
}

/** Learns a few real cursors to mutate, the way an attacker starts from their own. */
async function learnCursors(server: ReferenceServer): Promise<string[]> {
  const token = await signToken(
    { topics: ["fuzz.*"], exp: Math.floor(Date.now() / 1000) + 600 },
    SECRET,
  );
  const controller = new AbortController();
  const response = await fetch(`${server.url}/v1/events?topic=fuzz.a&topic=fuzz.b`, {
    headers: { authorization: `Bearer ${token}`, "x-forwarded-for": "192.0.2.1" },
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  for (const topic of ["fuzz.a", "fuzz.b"]) {
    await fetch(`${server.url}/v1/topics/${topic}`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "x-forwarded-for": "192.0.2.1" },
      body: JSON.stringify([{ data: 1 }, { data: 2 }]),
    }).then((r) => r.text());
  }
  const reader = response.body!.getReader();
  let text = "";
  while ((text.match(/^id: /gm) ?? []).length < 5) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  controller.abort();
  await reader.cancel().catch(() => {});
  return [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
}

function fuzzSuite(target: ServerRuntime): void {
  describe(`reference server fuzz on ${target} (seed ${SEED})`, { timeout: 240_000 }, () => {
    let server: ReferenceServer;
    before(async () => {
      server = await startReferenceServer(target, { env: ENV });
    });
    after(async () => {
      await server?.stop();
    });

    it("answers random tokens, cursors, topics and bodies only with typed 4xx refusals, memory flat", async () => {
      const random = seededRandom(SEED);
      const seen: Seen = { cursors: await learnCursors(server) };
      assert.ok(seen.cursors.length >= 4, "real cursors to start from");
      const addresses = Array.from(
        { length: 5000 },
        (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      );
      const codes = new Map<string, number>();
      const statuses = new Map<number, number>();
      const rss: number[] = [];
      const started = Date.now();
      let sent = 0;
      let nextSample = 0;
      const worker = async () => {
        while (sent < MAX_REQUESTS && Date.now() - started < BUDGET_MS) {
          sent++;
          const outcome = await fuzzOnce(server, random, seen, random.pick(addresses));
          statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
          if (outcome.code) codes.set(outcome.code, (codes.get(outcome.code) ?? 0) + 1);
          if (sent >= nextSample) {
            nextSample += SAMPLE_EVERY;
            const bytes = server.rssBytes();
            if (bytes !== undefined) rss.push(bytes);
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      } catch (error) {
        throw new Error(`seed ${SEED}: ${(error as Error).message}`, { cause: error });
      }
      const summary = `seed ${SEED}, ${sent} requests, statuses ${
        JSON.stringify(Object.fromEntries(statuses))
      }, codes ${JSON.stringify(Object.fromEntries(codes))}, rss MiB ${
        rss.map((b) => Math.round(b / 2 ** 20)).join(" ")
      }`;
      console.log(summary);
      assert.ok(sent >= 200, `only ${sent} requests in ${BUDGET_MS} ms: ${summary}`);
      for (const code of ["token-invalid", "body-invalid", "cursor-invalid"]) {
        assert.ok(codes.has(code), `the fuzz never reached ${code}: ${summary}`);
      }
      assert.ok((statuses.get(200) ?? 0) > 0, `nothing got through: ${summary}`);
      // Not on workerd: its resident size grows with the request count whatever the worker does
      // (a worker that only answers 404 grows by about 4 KiB a request here), so there it would
      // measure workerd, not this server.
      if (target !== "workerd" && rss.length >= 6) {
        // Past warm-up, the resident size levels off: the second half of the run may not grow
        // by more than a quarter, or 48 MiB, over the middle sample.
        const middle = rss[Math.floor(rss.length / 2)];
        const end = rss[rss.length - 1];
        assert.ok(end - middle <= Math.max(48 * 2 ** 20, middle / 4), `memory grew: ${summary}`);
      }
    });

    it("holds no stream, timer, producer or queue once the fuzz is over", async () => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const metrics = await (await fetch(`${server.url}/metrics`)).text();
        const held = [
          "herald_connections_open",
          "herald_stream_timers",
          "herald_stream_producers",
          "herald_stream_queued_events",
          "herald_stream_queued_bytes",
        ].filter((gauge) => !new RegExp(`^${gauge} 0$`, "m").test(metrics));
        if (held.length === 0) break;
        assert.ok(Date.now() < deadline, `still held: ${held.join(", ")}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    });
  });
}

if (runtime === "deno" || runtime === "bun") fuzzSuite(runtime);
if (runtime === "deno") fuzzSuite("workerd");
