// The client's rules that need no network, run on every runtime of the shared suite (Deno, Bun,
// workerd, Edge). Where a response is needed it comes through the client's own `fetch` option,
// because a worker can't reach a loopback server from inside the suite; the real-server tests
// are tests/e2e/client*.test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  connect,
  type ConnectOptions,
  EventSource,
  SSEClientError,
  type SSEMessage,
} from "../mod.ts";
import { DEFAULT_RETRY_POLICY } from "../client.ts";
import { parseRetryAfterMs, resolveRetryPolicy, retryDelayMs } from "../src/client/retry_policy.ts";
import { readBodyStart } from "../src/client/read_body_start.ts";
import { runtime } from "./support/runtime.ts";

const URL_ = "http://127.0.0.1:9/events";

/** Timers that record every delay and run it at once. */
function fastTimers(delaysMs: number[] = []) {
  return {
    setTimeout: (callback: () => void, ms: number): unknown => {
      delaysMs.push(ms);
      return setTimeout(callback, 0);
    },
    clearTimeout: (id: unknown) => clearTimeout(id as number),
  };
}

/** A `fetch` answering each call with the next response of a script (then 204). */
function scriptedFetch(responses: (() => Response)[], seen: RequestInit[] = []) {
  let n = 0;
  return (_url: string, init: RequestInit): Promise<Response> => {
    seen.push(init);
    const next = responses[n++];
    return Promise.resolve(next ? next() : new Response(null, { status: 204 }));
  };
}

const stream =
  (text: string, headers: HeadersInit = { "content-type": "text/event-stream" }) => () =>
    new Response(text, { headers });

function refusal(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SSEClientError, `an SSEClientError, got ${error}`);
    assert.equal(error.code, "invalid-options");
    assert.match(error.message, pattern);
    return true;
  });
}

async function collect(options: ConnectOptions): Promise<SSEMessage[]> {
  const out: SSEMessage[] = [];
  for await (const message of connect(URL_, options)) out.push(message);
  return out;
}

describe("retry policy", () => {
  const policy = resolveRetryPolicy({ initialMs: 100, factor: 2, maxMs: 1000, jitter: 0 });

  it("grows by factor per failure in a row and stops at maxMs", () => {
    const delays = [1, 2, 3, 4, 5, 6].map((failures) =>
      retryDelayMs(policy, { failures, baseMs: 100, random: 0.9 })
    );
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
  });
  it("takes up to `jitter` of the delay off, at random", () => {
    const jittered = resolveRetryPolicy({ initialMs: 1000, jitter: 0.5 });
    assert.equal(retryDelayMs(jittered, { failures: 1, baseMs: 1000, random: 0 }), 1000);
    assert.equal(retryDelayMs(jittered, { failures: 1, baseMs: 1000, random: 0.5 }), 750);
    assert.equal(retryDelayMs(jittered, { failures: 1, baseMs: 1000, random: 0.998 }), 501);
  });
  it("never waits less than Retry-After", () => {
    assert.equal(
      retryDelayMs(policy, { failures: 1, baseMs: 100, retryAfterMs: 5000, random: 0 }),
      5000,
    );
  });
  it("lets a server's retry above maxMs win", () => {
    assert.equal(retryDelayMs(policy, { failures: 3, baseMs: 4000, random: 0 }), 4000);
  });
  it("defaults to browsers' 3 s, doubling up to 30 s, 20% jitter", () => {
    assert.deepEqual({ ...DEFAULT_RETRY_POLICY }, {
      initialMs: 3000,
      maxMs: 30_000,
      factor: 2,
      jitter: 0.2,
    });
  });
  it("reads Retry-After as seconds or an HTTP date", () => {
    assert.equal(parseRetryAfterMs("3", 0), 3000);
    assert.equal(parseRetryAfterMs(" 0 ", 0), 0);
    assert.equal(parseRetryAfterMs(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(parseRetryAfterMs(new Date(1000).toUTCString(), 4000), 0);
    assert.equal(parseRetryAfterMs("soon", 0), undefined);
    assert.equal(parseRetryAfterMs(null, 0), undefined);
  });
  it("refuses unusable policies with invalid-options", () => {
    refusal(() => resolveRetryPolicy({ factor: 0.5 }), /factor/);
    refusal(() => resolveRetryPolicy({ jitter: 2 }), /jitter/);
    refusal(() => resolveRetryPolicy({ initialMs: -1 }), /initialMs/);
    refusal(() => resolveRetryPolicy({ maxMs: NaN }), /maxMs/);
  });
});

describe("client options", () => {
  it("refuses a relative URL outside a browser, and an unparsable one", () => {
    refusal(() => connect("/events"), /absolute/);
    refusal(() => new EventSource("http://["), /not a valid URL/);
  });
  it("refuses a body with GET, a stream body, and bad limits", () => {
    refusal(() => connect(URL_, { body: "x" }), /method/);
    refusal(
      () => connect(URL_, { method: "POST", body: new ReadableStream() as unknown as string }),
      /ReadableStream/,
    );
    refusal(() => connect(URL_, { maxRetries: -1 }), /maxRetries/);
    refusal(() => connect(URL_, { idleTimeoutMs: Infinity }), /idleTimeoutMs/);
    refusal(() => connect(URL_, { lastEventId: "1\n2" }), /lastEventId/);
  });
});

describe("connect with the fetch option", () => {
  it("sends Accept, the method, the body and the lastEventId option", async () => {
    const seen: RequestInit[] = [];
    await collect({
      fetch: scriptedFetch([], seen),
      method: "POST",
      body: "q=1",
      lastEventId: "41",
      timers: fastTimers(),
    });
    const headers = new Headers(seen[0].headers);
    assert.equal(headers.get("accept"), "text/event-stream");
    assert.equal(headers.get("last-event-id"), "41");
    assert.equal(seen[0].method, "POST");
    assert.equal(seen[0].body, "q=1");
  });

  it("retries when the headers function fails, with headers-failed", async () => {
    let calls = 0;
    const errors: string[] = [];
    const connection = connect(URL_, {
      fetch: scriptedFetch([stream("data: ok\n\n")]),
      headers: () => {
        if (++calls === 1) throw new Error("token service down");
        return { authorization: "Bearer fresh" };
      },
      timers: fastTimers(),
    });
    connection.onerror = (error) => errors.push(error.code);
    const messages: string[] = [];
    for await (const message of connection) messages.push(message.data);
    assert.deepEqual(messages, ["ok"]);
    assert.deepEqual(errors, ["headers-failed", "stream-ended"]);
  });

  it("fails with parse-error, not a retry loop, on an event past maxEventBytes", async () => {
    const connection = connect(URL_, {
      fetch: scriptedFetch([stream("data: small\n\ndata: " + "x".repeat(100) + "\n\n")]),
      maxEventBytes: 50,
      timers: fastTimers(),
    });
    const messages: string[] = [];
    await assert.rejects(
      async () => {
        for await (const message of connection) messages.push(message.data);
      },
      (error: unknown) => error instanceof SSEClientError && error.code === "parse-error",
    );
    assert.deepEqual(messages, ["small"]);
  });

  it("accepts text/event-stream with parameters and in any case", async () => {
    const messages = await collect({
      fetch: scriptedFetch([
        stream("data: a\n\n", { "content-type": "Text/Event-Stream; charset=utf-8" }),
      ]),
      timers: fastTimers(),
    });
    assert.deepEqual(messages.map((m) => m.data), ["a"]);
  });

  it("reads the body only as fast as the loop consumes messages", async () => {
    let pulls = 0;
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        if (pulls > 1000) return controller.close();
        controller.enqueue(encoder.encode(`data: ${pulls}\n\n`));
      },
    }, { highWaterMark: 0 });
    const connection = connect(URL_, {
      fetch: scriptedFetch([
        () => new Response(body, { headers: { "content-type": "text/event-stream" } }),
      ]),
      timers: fastTimers(),
    });
    const first = await connection.next();
    assert.equal(first.value?.data, "1");
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    assert.ok(pulls <= 4, `the body was read ahead of the consumer: ${pulls} pulls`);
    connection.close();
    assert.deepEqual(await connection.next(), { value: undefined, done: true });
  });

  it("breaking out of for-await closes the connection", async () => {
    const connection = connect(URL_, {
      fetch: scriptedFetch([stream("data: 1\n\ndata: 2\n\ndata: 3\n\n")]),
      timers: fastTimers(),
    });
    for await (const message of connection) {
      if (message.data === "1") break;
    }
    assert.equal(connection.readyState, 2);
  });

  it("a program that breaks after two messages and saves lastEventId resumes with the third", async () => {
    // A server with five numbered events that resumes after Last-Event-ID, sending everything
    // that follows in one chunk: the client parses all of it before the loop takes the first.
    const seen: (string | null)[] = [];
    const server = (_url: string, init: RequestInit): Promise<Response> => {
      const after = new Headers(init.headers).get("last-event-id");
      seen.push(after);
      let text = "";
      for (let n = Number(after ?? 0) + 1; n <= 5; n++) text += `id: ${n}\ndata: ${n}\n\n`;
      return Promise.resolve(
        new Response(text, { headers: { "content-type": "text/event-stream" } }),
      );
    };
    const first = connect(URL_, { fetch: server, timers: fastTimers() });
    assert.equal(first.lastEventId, "", "nothing consumed yet");
    const consumed: string[] = [];
    for await (const message of first) {
      consumed.push(message.data);
      assert.equal(first.lastEventId, message.id, "the id of the message being handled");
      if (consumed.length === 2) break;
    }
    const saved = first.lastEventId;
    assert.equal(saved, "2");

    const resumed = connect(URL_, { fetch: server, lastEventId: saved, timers: fastTimers() });
    assert.equal(resumed.lastEventId, "2", "before the first message: the lastEventId option");
    const next = await resumed.next();
    resumed.close();
    assert.equal(next.value?.data, "3");
    assert.deepEqual(seen, [null, "2"]);
  });
});

describe("error bodies", () => {
  it("keeps only the first bytes of a long body, without a half character at the cut", async () => {
    assert.equal(await readBodyStart(new Response("é".repeat(1000)), 9), "éééé");
  });
  it("gives up on a stalled body and keeps what arrived", async () => {
    const stalled = new ReadableStream<Uint8Array>({
      start: (c) => c.enqueue(new TextEncoder().encode("partial")),
    });
    assert.equal(await readBodyStart(new Response(stalled), 512, 30), "partial");
  });
});

describe("EventSource interface", () => {
  it("has the standard constants, url, withCredentials and readyState", () => {
    const source = new EventSource(new URL(URL_), {
      fetch: scriptedFetch([]),
      withCredentials: true,
    });
    assert.equal(EventSource.CONNECTING, 0);
    assert.equal(EventSource.OPEN, 1);
    assert.equal(EventSource.CLOSED, 2);
    assert.equal(source.CLOSED, 2);
    assert.equal(source.url, URL_);
    assert.equal(source.withCredentials, true);
    assert.equal(source.readyState, EventSource.CONNECTING);
    source.close();
    assert.equal(source.readyState, EventSource.CLOSED);
    assert.ok(source instanceof EventTarget);
  });

  it("runs each on<type> handler once per event", async () => {
    const source = new EventSource(URL_, {
      fetch: scriptedFetch([stream("data: a\n\ndata: b\n\n")]),
      timers: fastTimers(),
    });
    const seen: string[] = [];
    let opens = 0;
    source.onopen = () => opens++;
    source.onmessage = (event) => seen.push(event.data);
    await new Promise<void>((resolve) => {
      source.onerror = () => source.readyState === EventSource.CLOSED && resolve();
    });
    assert.deepEqual(seen, ["a", "b"]);
    assert.equal(opens, 1);
  });

  // workerd's dispatchEvent calls on<type> properties itself, with its own `this`.
  it(
    "calls on<type> handlers with `this` the source",
    { skip: runtime === "workerd" },
    async () => {
      const source = new EventSource(URL_, {
        fetch: scriptedFetch([stream("data: a\n\n")]),
        timers: fastTimers(),
      });
      const self = await new Promise((resolve) => {
        source.onmessage = function () {
          resolve(this);
        };
      });
      source.close();
      assert.equal(self, source);
    },
  );

  it("stops calling a handler set back to null, and reads back what was set", async () => {
    const source = new EventSource(URL_, {
      fetch: scriptedFetch([stream("data: a\n\n")]),
      timers: fastTimers(),
    });
    const handler = () => assert.fail("a removed handler was called");
    source.onmessage = handler;
    assert.equal(source.onmessage, handler);
    source.onmessage = null;
    assert.equal(source.onmessage, null);
    const seen: string[] = [];
    source.addEventListener("message", (event) => seen.push((event as MessageEvent).data));
    await new Promise<void>((resolve) => {
      source.addEventListener("error", () => source.readyState === 2 && resolve());
    });
    assert.deepEqual(seen, ["a"]);
  });

  it("dispatches MessageEvents with data, origin and lastEventId", async () => {
    const source = new EventSource(URL_, {
      fetch: scriptedFetch([stream("id: 7\nevent: tick\ndata: x\n\n")]),
      timers: fastTimers(),
    });
    const event = await new Promise<MessageEvent>((resolve) => {
      source.addEventListener("tick", (e) => resolve(e as MessageEvent));
    });
    source.close();
    // Vercel's Edge runtime has no MessageEvent: Herald dispatches an Event with the same fields.
    if (typeof MessageEvent === "function") assert.ok(event instanceof MessageEvent);
    assert.ok(event instanceof Event);
    assert.deepEqual([event.type, event.data, event.lastEventId], ["tick", "x", "7"]);
    // A custom fetch may return a Response without a URL: the origin is the requested one.
    assert.equal(event.origin, "http://127.0.0.1:9");
  });
});
