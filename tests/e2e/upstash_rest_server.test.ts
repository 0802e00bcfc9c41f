// The Upstash REST test server, driven by the real `@upstash/redis` client (and raw fetch where
// the wire format itself is the point), in front of a private redis-server. Runs under Deno and
// Bun, each against its own in-process server.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { type RedisProcess, startRedis } from "../support/redis_process.ts";
import { startUpstashRestServer, type UpstashRestServer } from "../support/upstash_rest_server.ts";
import {
  encodeCommands,
  replyText,
  RespConnection,
  RespError,
  RespParser,
  type RespValue,
} from "../support/resp_connection.ts";

let redisProcess: RedisProcess;
let server: UpstashRestServer;
let prefix = 0;
/** A key (or channel) name no other test uses. */
const key = (name: string) => `urs:${++prefix}:${name}`;

const client = (options: { autoPipeline?: boolean; base64?: boolean; token?: string } = {}) =>
  new Redis({
    url: server.url,
    token: options.token ?? server.token,
    enableAutoPipelining: options.autoPipeline ?? false,
    responseEncoding: options.base64 === false ? false : "base64",
    enableTelemetry: false,
    retry: false,
  });

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(server.url + path, {
    method: "POST",
    headers: { authorization: `Bearer ${server.token}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** Resolves when `check()` is true; fails after `timeoutMs` (generous: the machine is shared). */
async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads an SSE response body line by line (raw, as the Upstash client does). */
function lineReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    /** The next non-empty line, or `undefined` when the stream ends. */
    async next(): Promise<string | undefined> {
      for (;;) {
        const newline = buffer.indexOf("\n");
        if (newline !== -1) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line !== "") return line;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) return undefined;
        buffer += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

async function openRawSubscribe(channel: string) {
  const response = await fetch(`${server.url}/subscribe/${encodeURIComponent(channel)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.token}`, accept: "text/event-stream" },
    body: "[]",
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const lines = lineReader(response.body!);
  assert.equal(await lines.next(), `data: subscribe,${channel},1`);
  return lines;
}

before(async () => {
  // A private server: this file FLUSHes nothing, but counts connections in CLIENT LIST.
  redisProcess = await startRedis({ private: true });
  server = await startUpstashRestServer({ redisUrl: redisProcess.url });
});

after(async () => {
  await server?.stop();
  await redisProcess?.stop();
});

describe("RESP2 parser of the test server", () => {
  // Every reply type, nested, with a two-byte character and empty arrays; one char = one byte.
  const bytes = Uint8Array.from(
    "+OK\r\n-ERR bad\r\n:-42\r\n$-1\r\n*-1\r\n$4\r\nh\xc3\xa9\r\r\n*0\r\n" +
      "*3\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$0\r\n\r\n*0\r\n:7\r\n",
    (char) => char.charCodeAt(0),
  );
  const expected: RespValue[] = [
    "OK",
    new RespError("ERR bad"),
    -42,
    null,
    null,
    Uint8Array.from([0x68, 0xc3, 0xa9, 0x0d]),
    [],
    [[Uint8Array.from([0x31, 0x2d, 0x30]), [Uint8Array.from([0x66]), new Uint8Array(0)]], [], 7],
  ];

  it("parses every reply type, whole", () => {
    assert.deepEqual(new RespParser().push(bytes), expected);
  });

  it("parses the same replies split at every byte position, with empty chunks between", () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const parser = new RespParser();
      const replies = [
        ...parser.push(bytes.subarray(0, cut)),
        ...parser.push(new Uint8Array(0)),
        ...parser.push(bytes.subarray(cut)),
      ];
      assert.deepEqual(replies, expected, `split at ${cut}`);
    }
    const parser = new RespParser();
    const replies = [...bytes].flatMap((byte) => parser.push(Uint8Array.of(byte)));
    assert.deepEqual(replies, expected, "one byte at a time");
  });

  it("encodes commands as arrays of bulk strings, counting bytes not characters", () => {
    assert.equal(
      new TextDecoder().decode(encodeCommands([["SET", "k", "é"], ["PING"]])),
      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n*1\r\n$4\r\nPING\r\n",
    );
  });
});

describe("Upstash REST test server: commands", () => {
  for (const autoPipeline of [false, true]) {
    it(`SET then GET round-trips a value (autoPipelining ${autoPipeline})`, async () => {
      const redis = client({ autoPipeline });
      const k = key("greeting");
      assert.equal(await redis.set(k, "hello wörld"), "OK");
      assert.equal(await redis.get(k), "hello wörld");
      await redis.set(k, { nested: [1, "two"] });
      assert.deepEqual(await redis.get(k), { nested: [1, "two"] });
    });
  }

  it("batches concurrent commands of an auto-pipelining client into one /pipeline request", async () => {
    const redis = client({ autoPipeline: true });
    const k = key("counter");
    server.resetCounters();
    const results = await Promise.all([redis.incr(k), redis.incr(k), redis.incr(k)]);
    assert.deepEqual(results, [1, 2, 3]);
    assert.equal(server.counters.byPath["/pipeline"], 1);
    assert.equal(server.counters.requests, 1);
    assert.equal(server.counters.byCommand.INCR, 3, "each command is counted (billed)");
  });

  it("XADD and XRANGE with exclusive bounds and COUNT return exactly the asked window", async () => {
    const redis = client();
    const stream = key("stream");
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push(await redis.xadd(stream, `${i}-0`, { n: i }));
    assert.deepEqual(ids, ["1-0", "2-0", "3-0", "4-0", "5-0"]);
    const window = await redis.xrange(stream, "(2-0", "+", 2);
    assert.deepEqual(Object.keys(window), ["3-0", "4-0"]);
    assert.deepEqual(window["3-0"], { n: 3 });
    assert.deepEqual(Object.keys(await redis.xrange(stream, "(5-0", "+")), []);
    // MAXLEN trimming through XADD options.
    await redis.xadd(stream, "*", { n: 6 }, {
      trim: { type: "MAXLEN", comparison: "=", threshold: 3 },
    });
    assert.equal(await redis.xlen(stream), 3);
  });

  it("EVAL runs a script that XADDs and PUBLISHes atomically, and subscribers get the message", async () => {
    const redis = client();
    const stream = key("evalstream");
    const channel = key("evalchannel");
    const subscriber = redis.subscribe<string>(channel);
    const messages: unknown[] = [];
    let subscribed = 0;
    subscriber.on("subscribe", (n) => subscribed = n);
    subscriber.on("message", ({ message }) => messages.push(message));
    try {
      await until(() => subscribed === 1, "the subscribe confirmation");
      const script = `
        local id = redis.call("XADD", KEYS[1], "*", "data", ARGV[1])
        redis.call("PUBLISH", KEYS[2], id)
        return {id, redis.call("XLEN", KEYS[1])}`;
      const [id, length] = await redis.eval<string[], [string, number]>(
        script,
        [stream, channel],
        ["payload"],
      );
      assert.match(id, /^\d+-\d+$/);
      assert.equal(length, 1);
      await until(() => messages.length === 1, "the published id");
      assert.equal(String(messages[0]), id);
    } finally {
      await subscriber.unsubscribe();
    }
  });

  it("runs an explicit pipeline and reports each command's error on its own", async () => {
    const redis = client();
    const k = key("pipe");
    const results = await redis.pipeline().set(k, "v").get(k).incr(k).exec({ keepErrors: true });
    assert.deepEqual(results[0], { result: "OK", error: undefined });
    assert.deepEqual(results[1], { result: "v", error: undefined });
    assert.match(String(results[2].error), /not an integer/);
    await assert.rejects(
      redis.pipeline().set(k, "w").incr(k).exec(),
      /Command 2 \[ incr \] failed/,
    );
  });

  it("runs /multi-exec as one transaction: no other request lands between its commands", async () => {
    const redis = client();
    const k = key("atomic");
    await redis.set(k, 0);
    const reads: number[] = [];
    const rounds = 40;
    await Promise.all([
      (async () => {
        for (let i = 0; i < rounds; i++) await redis.multi().incr(k).incr(k).exec();
      })(),
      (async () => {
        for (let i = 0; i < rounds; i++) reads.push(Number(await redis.get(k)));
      })(),
    ]);
    assert.equal(Number(await redis.get(k)), rounds * 2);
    assert.ok(reads.every((n) => n % 2 === 0), `every read sees whole transactions: ${reads}`);
  });

  it("answers a multi-exec with a queueing error as one error and applies nothing", async () => {
    const k = key("execabort");
    const { status, body } = await post("/multi-exec", [["SET", k, "1"], ["NOSUCHCOMMAND"]]);
    assert.equal(status, 400);
    assert.match(body.error, /EXECABORT/);
    assert.equal(await client().get(k), null);
  });

  it("reports runtime errors inside a multi-exec per command, after applying the others", async () => {
    const k = key("execmixed");
    const { status, body } = await post("/multi-exec", [["SET", k, "x"], ["INCR", k], ["GET", k]]);
    assert.equal(status, 200);
    assert.deepEqual(body[0], { result: "OK" });
    assert.match(body[1].error, /not an integer/);
    assert.deepEqual(body[2], { result: "x" });
  });

  it("accepts numbers and booleans as arguments", async () => {
    const k = key("typed");
    assert.deepEqual((await post("/", ["SET", k, 42])).body, { result: "OK" });
    assert.deepEqual((await post("/", ["INCRBY", k, 8])).body, { result: 50 });
    assert.deepEqual((await post("/", ["SET", k, true])).body, { result: "OK" });
    assert.deepEqual((await post("/", ["GET", k])).body, { result: "true" });
  });

  it("serves the URL-path command form", async () => {
    const k = key("path form");
    const auth = { authorization: `Bearer ${server.token}` };
    const set = await fetch(`${server.url}/set/${encodeURIComponent(k)}/v1`, { headers: auth });
    assert.deepEqual(await set.json(), { result: "OK" });
    const posted = await fetch(`${server.url}/set/${encodeURIComponent(k)}`, {
      method: "POST",
      headers: auth,
      body: "body value",
    });
    assert.deepEqual(await posted.json(), { result: "OK" });
    const get = await fetch(`${server.url}/get/${encodeURIComponent(k)}`, { headers: auth });
    assert.deepEqual(await get.json(), { result: "body value" });
  });

  it("refuses blocking reads and connection-state commands with a 400 that says why", async () => {
    for (
      const command of [["BLPOP", "k", 1], ["XREAD", "BLOCK", 0, "STREAMS", "s", "$"], ["MULTI"]]
    ) {
      const { status, body } = await post("/", command);
      assert.equal(status, 400, JSON.stringify(command));
      assert.match(body.error, /not supported over REST/);
    }
  });
});

describe("Upstash REST test server: encoding and headers", () => {
  it("base64-encodes every string at any depth except a top-level OK, numbers untouched", async () => {
    const k = key("b64");
    const stream = key("b64stream");
    const base64 = { "upstash-encoding": "base64" };
    assert.deepEqual((await post("/", ["SET", k, "ü"], base64)).body, { result: "OK" });
    assert.deepEqual((await post("/", ["GET", k], base64)).body, { result: btoa("\xc3\xbc") });
    assert.deepEqual((await post("/", ["STRLEN", k], base64)).body, { result: 2 });
    assert.deepEqual((await post("/", ["GET", key("missing")], base64)).body, { result: null });
    await post("/", ["XADD", stream, "1-0", "f", "v"]);
    assert.deepEqual((await post("/", ["XRANGE", stream, "-", "+"], base64)).body, {
      result: [[btoa("1-0"), [btoa("f"), btoa("v")]]],
    });
    assert.deepEqual((await post("/", ["XRANGE", stream, "-", "+"])).body, {
      result: [["1-0", ["f", "v"]]],
    });
    const pipeline = await post("/pipeline", [["SET", k, "OK"], ["GET", k]], base64);
    assert.deepEqual(pipeline.body, [{ result: "OK" }, { result: btoa("OK") }]);
  });

  for (const base64 of [true, false]) {
    it(`gives the client the same values with responseEncoding ${base64 ? "base64" : "off"}`, async () => {
      const redis = client({ base64 });
      const k = key("enc");
      const text = 'héllo, 世界 🎉 "quoted"';
      await redis.set(k, text);
      assert.equal(await redis.get(k), text);
      await redis.hset(k + ":h", { a: "1x", b: "ü" });
      assert.deepEqual(await redis.hgetall(k + ":h"), { a: "1x", b: "ü" });
    });
  }

  it("sends an upstash-sync-token with every reply and records the one the client sends back", async () => {
    const first = await post("/", ["PING"]);
    const token = first.headers.get("upstash-sync-token");
    assert.ok(token, "a sync token header");
    server.resetCounters();
    const redis = client();
    await redis.ping(); // the first request of a fresh client carries no token yet
    await redis.ping();
    assert.equal(server.counters.syncTokensReceived, 1);
    assert.ok(Number(server.counters.lastSyncToken) > Number(token), "a newer token came back");
  });
});

describe("Upstash REST test server: errors", () => {
  it("answers 401 to a bad token, and the client throws", async () => {
    const raw = await fetch(server.url + "/", {
      method: "POST",
      headers: { authorization: "Bearer wrong" },
      body: '["PING"]',
    });
    assert.equal(raw.status, 401);
    assert.match((await raw.json()).error, /auth token/);
    await assert.rejects(client({ token: "wrong" }).get(key("x")), /auth token/);
  });

  it("answers 400 to an unknown command, and the client throws", async () => {
    const { status, body } = await post("/", ["NOSUCHCOMMAND", "x"]);
    assert.equal(status, 400);
    assert.match(body.error, /unknown command/);
    await assert.rejects(
      client().eval("return redis.call('NOSUCH')", [], []),
      /Unknown Redis command|unknown command/i,
    );
  });

  it("answers 400 to a body that is not a JSON command", async () => {
    assert.equal((await post("/", "{not json")).status, 400);
    assert.match((await post("/", [])).body.error, /non-empty JSON array/);
    assert.match(
      (await post("/", ["SET", "k", { a: 1 }])).body.error,
      /strings, numbers or booleans/,
    );
    assert.equal((await post("/pipeline", ["GET", "k"])).status, 400);
  });
});

describe("Upstash REST test server: subscribe streams", () => {
  it("delivers published messages to redis.subscribe and ends the stream on unsubscribe", async () => {
    const redis = client();
    const channel = key("chan");
    const subscriber = redis.subscribe<unknown>(channel);
    const messages: unknown[] = [];
    let subscribed = 0;
    subscriber.on("subscribe", (n) => subscribed = n);
    subscriber.on(`message:${channel}`, ({ message }) => messages.push(message));
    await until(() => subscribed === 1, "the subscribe confirmation");
    assert.equal(server.openSubscriptions, 1);
    assert.equal(await redis.publish(channel, { n: 1 }), 1);
    await redis.publish(channel, "two");
    await until(() => messages.length === 2, "two messages");
    assert.deepEqual(messages, [{ n: 1 }, "two"]);
    await subscriber.unsubscribe();
    await until(() => server.openSubscriptions === 0, "the stream to close");
    await until(
      async () => (await redis.publish(channel, "late")) === 0,
      "Redis to drop the subscriber",
    );
  });

  it("delivers pattern messages to redis.psubscribe with their channel", async () => {
    const redis = client();
    const base = key("pat");
    const subscriber = redis.psubscribe<string>(`${base}:*`);
    const messages: { pattern: string; channel: string; message: unknown }[] = [];
    let subscribed = 0;
    subscriber.on("psubscribe", (n) => subscribed = n);
    subscriber.on("pmessage", (m) => messages.push(m));
    subscriber.on(
      "error",
      (error) => messages.push({ pattern: "error", channel: "", message: error }),
    );
    try {
      await until(() => subscribed === 1, "the psubscribe confirmation");
      // psubscribe JSON-parses payloads (plain subscribe falls back to text): publish JSON.
      await redis.publish(`${base}:a`, { v: "x" });
      await redis.publish(`${base}:b`, { v: "y" });
      await until(() => messages.length === 2, "two pattern messages");
      assert.deepEqual(messages.map((m) => [m.pattern, m.channel, m.message]), [
        [`${base}:*`, `${base}:a`, { v: "x" }],
        [`${base}:*`, `${base}:b`, { v: "y" }],
      ]);
    } finally {
      await subscriber.unsubscribe();
    }
  });

  it("writes the wire lines exactly: data: subscribe,<ch>,<n> then data: message,<ch>,<payload>", async () => {
    const channel = key("wire");
    const lines = await openRawSubscribe(channel);
    try {
      await post("/", ["PUBLISH", channel, "a,b c"], { "upstash-encoding": "base64" });
      assert.equal(await lines.next(), `data: message,${channel},a,b c`, "payloads never base64");
    } finally {
      await lines.cancel();
    }
  });
});

/** How many of Redis's client connections carry a name the test server gives its own. */
async function serverConnectionsInRedis(): Promise<number> {
  const connection = await RespConnection.connect(redisProcess.url);
  try {
    const list = replyText(await connection.command("CLIENT", "LIST"));
    return list.split("\n").filter((line) => /name=herald-upstash-/.test(line)).length;
  } finally {
    connection.close();
  }
}

describe("Upstash REST test server: fault injection", () => {
  it("failNext(n, status) answers the next n requests with that status, then serves again", async () => {
    const redis = client();
    server.resetCounters();
    server.failNext(2, 503);
    const raw = await fetch(server.url + "/", { method: "POST", body: '["PING"]' });
    assert.equal(raw.status, 503, "any request, even before authentication");
    assert.match((await raw.json()).error, /injected failure/);
    await assert.rejects(redis.ping(), /injected failure/, "the client never retries a status");
    assert.equal(await redis.ping(), "PONG");
    assert.equal(server.counters.failuresInjected, 2);
    assert.equal(server.counters.requests, 3);
  });

  it("failNext defaults to 500 and also fails a subscribe request", async () => {
    server.failNext(1);
    const raw = await fetch(server.url + "/subscribe/x", { method: "POST", body: "[]" });
    assert.equal(raw.status, 500);
    await raw.body?.cancel();
    server.failNext(1);
    const errors: unknown[] = [];
    const subscriber = client().subscribe(key("failing"));
    subscriber.on("error", (error) => errors.push(error));
    await until(() => errors.length === 1, "the subscriber's error event");
    assert.match(String(errors[0]), /injected failure/);
    await subscriber.unsubscribe();
    assert.equal(server.openSubscriptions, 0);
  });

  it("latencyMs delays every request by at least that long", async () => {
    const redis = client();
    server.latencyMs = 200;
    try {
      const started = performance.now();
      await redis.ping();
      // Only a lower bound: timers never fire early by more than a tick, load only adds.
      assert.ok(performance.now() - started >= 190, "the request took at least latencyMs");
    } finally {
      server.latencyMs = 0;
    }
  });

  it('dropSubscriptions({ mode: "close" }) ends every stream cleanly and unsubscribes in Redis', async () => {
    const channel = key("dropclose");
    const lines = [await openRawSubscribe(channel), await openRawSubscribe(channel)];
    assert.equal(server.openSubscriptions, 2);
    assert.equal(server.dropSubscriptions({ mode: "close" }), 2);
    for (const stream of lines) assert.equal(await stream.next(), undefined, "the body ends");
    assert.equal(server.openSubscriptions, 0);
    await until(
      async () => (await post("/", ["PUBLISH", channel, "x"])).body.result === 0,
      "no subscriber left in Redis",
    );
  });

  it('dropSubscriptions() cuts every stream mid-body ("abort", the default)', async () => {
    const channel = key("dropabort");
    const lines = await openRawSubscribe(channel);
    assert.equal(server.dropSubscriptions(), 1);
    await assert.rejects(lines.next(), "reading the cut body fails");
    assert.equal(server.openSubscriptions, 0);
  });

  it('dropSubscriptions({ mode: "stall" }) keeps the stream open but silent', async () => {
    const channel = key("dropstall");
    const lines = await openRawSubscribe(channel);
    assert.equal(server.dropSubscriptions({ mode: "stall" }), 1);
    assert.equal(server.openSubscriptions, 1);
    assert.equal(server.stalledSubscriptions, 1);
    await until(
      async () => (await post("/", ["PUBLISH", channel, "lost"])).body.result === 0,
      "Redis to drop the subscriber",
    );
    const next = lines.next();
    const quiet = await Promise.race([
      next.then(() => "data"),
      new Promise((r) => setTimeout(() => r("quiet"), 300)),
    ]);
    assert.equal(quiet, "quiet", "nothing arrives, not even an end");
    assert.equal(server.dropSubscriptions(), 0, "a stalled stream is not dropped twice");
    await lines.cancel();
    await until(() => server.openSubscriptions === 0, "the cancelled stream to be released");
  });

  it("a client re-subscribing after a drop receives messages again", async () => {
    const redis = client();
    const channel = key("resubscribe");
    const messages: unknown[] = [];
    const open = () => {
      let subscribed = false;
      const subscriber = redis.subscribe<string>(channel);
      subscriber.on("subscribe", () => subscribed = true);
      subscriber.on("message", ({ message }) => messages.push(message));
      return { subscriber, ready: () => until(() => subscribed, "the subscription") };
    };
    const first = open();
    await first.ready();
    server.dropSubscriptions({ mode: "close" });
    await until(() => server.openSubscriptions === 0, "the drop");
    await redis.publish(channel, "while down");
    const second = open();
    try {
      await second.ready();
      await redis.publish(channel, "after");
      await until(() => messages.length === 1, "the message after re-subscribing");
      assert.deepEqual(messages, ["after"], "what was published while down is gone");
    } finally {
      await first.subscriber.unsubscribe();
      await second.subscriber.unsubscribe();
    }
  });

  it("stop() ends open streams and closes every Redis connection it opened", async () => {
    await until(() => server.openSubscriptions === 0, "earlier streams to close");
    const before = await serverConnectionsInRedis();
    const other = await startUpstashRestServer({ redisUrl: redisProcess.url, token: "t0ken" });
    let stopped = false;
    try {
      assert.equal(other.token, "t0ken");
      const redis = new Redis({ url: other.url, token: "t0ken", enableTelemetry: false });
      assert.equal(await redis.ping(), "PONG");
      const response = await fetch(`${other.url}/subscribe/${key("stop")}`, {
        method: "POST",
        headers: { authorization: "Bearer t0ken" },
      });
      const lines = lineReader(response.body!);
      assert.match(String(await lines.next()), /^data: subscribe,/);
      assert.equal(
        await serverConnectionsInRedis(),
        before + 2,
        "a command and a subscriber connection",
      );
      await other.stop();
      stopped = true;
      // Cleanly, or cut if the listener closed first: either way the stream is over.
      assert.equal(await lines.next().catch(() => undefined), undefined, "the open stream ended");
      await until(
        async () => (await serverConnectionsInRedis()) === before,
        "its connections to close",
      );
      await assert.rejects(fetch(other.url + "/", { method: "POST", body: '["PING"]' }));
    } finally {
      if (!stopped) await other.stop();
    }
  });
});
