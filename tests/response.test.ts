// sseResponse without a network: the body is read in-process, so these run everywhere the shared
// suite runs (Deno, Bun, workerd, Edge). Real servers and clients are in tests/e2e/response*.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createParser,
  SSECloseError,
  type SSECloseReason,
  SSEEncodeError,
  type SSEEvent,
  type SSEMessage,
  sseResponse,
  SSEResponseError,
} from "../mod.ts";
import { type SSEClock, sseStats } from "../server.ts";
import { runtime } from "./support/runtime.ts";

/** A clock whose time moves only when told: timers run in order as `advance` passes them. */
function fakeClock(random = 0) {
  let now = 1_000_000;
  let nextId = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: SSEClock & { advance(ms: number): void; pending(): number[] } = {
    now: () => now,
    setTimeout(fn, ms) {
      timers.set(++nextId, { at: now + ms, fn });
      return nextId;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    random: () => random,
    advance(ms) {
      const target = now + ms;
      for (;;) {
        let first: [number, { at: number; fn: () => void }] | undefined;
        for (const entry of timers) if (!first || entry[1].at < first[1].at) first = entry;
        if (!first || first[1].at > target) break;
        timers.delete(first[0]);
        now = first[1].at;
        first[1].fn();
      }
      now = target;
    },
    pending: () => [...timers.values()].map((t) => t.at - now),
  };
  return clock;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const decoder = new TextDecoder();

/** Reads one chunk of the body as text ("" at the end). */
async function chunk(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { value, done } = await reader.read();
  return done ? "" : decoder.decode(value);
}

/** Reads the body to its end, parsing events with Herald's parser. */
async function events(response: Response): Promise<SSEMessage[]> {
  const seen: SSEMessage[] = [];
  const parser = createParser({ onEvent: (m) => seen.push(m) });
  parser.feed(await response.text());
  return seen;
}

/** Asserts that `promise` rejects with an error `check` accepts. */
async function rejects(promise: Promise<unknown>, check: (error: unknown) => void): Promise<void> {
  let error: unknown;
  let rejected = false;
  try {
    await promise;
  } catch (caught) {
    rejected = true;
    error = caught;
  }
  assert.ok(rejected, "the promise rejects");
  check(error);
}

const silent = { error() {} };

/** The counters of sseStats that must come back to where they were. */
function live() {
  const { open, timers, producers, queuedEvents, queuedBytes } = sseStats();
  return { open, timers, producers, queuedEvents, queuedBytes };
}

describe("sseResponse headers and first bytes", () => {
  it("sets the event-stream headers and never Connection, Transfer-Encoding or Content-Encoding", async () => {
    const response = sseResponse([], {
      headers: {
        connection: "keep-alive",
        "transfer-encoding": "chunked",
        "content-encoding": "gzip",
        "x-custom": "yes",
      },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(response.headers.get("cache-control"), "no-cache, no-transform");
    assert.equal(response.headers.get("x-accel-buffering"), "no");
    assert.equal(response.headers.get("x-custom"), "yes");
    assert.equal(response.headers.get("connection"), null);
    assert.equal(response.headers.get("transfer-encoding"), null);
    assert.equal(response.headers.get("content-encoding"), null);
    await response.text();
  });

  it("merges the caller's status and headers over the defaults", async () => {
    const response = sseResponse([], {
      status: 201,
      headers: { "cache-control": "no-store", "access-control-allow-origin": "*" },
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.equal(response.headers.get("access-control-allow-origin"), "*");
    await response.text();
  });

  it("sends retry and a comment at once, before the producer says anything", async () => {
    let release!: () => void;
    const response = sseResponse(async (stream) => {
      await new Promise<void>((resolve) => (release = resolve));
      await stream.send({ data: "later" });
    }, { retryMs: 1500, openComment: "hello" });
    const reader = response.body!.getReader();
    assert.equal(await chunk(reader), "retry: 1500\n: hello\n\n");
    release();
    assert.equal(await chunk(reader), "data: later\n\n");
    assert.equal(await chunk(reader), "");
  });

  it("sends a bare comment first when no retry is given", async () => {
    const reader = sseResponse([{ data: "x" }]).body!.getReader();
    assert.equal(await chunk(reader), ":\n\n");
    await reader.cancel();
  });
});

describe("sseResponse sources", () => {
  it("streams an array, an async generator and a ReadableStream of events", async () => {
    async function* generate(): AsyncGenerator<SSEEvent> {
      yield { id: "1", data: "a" };
      yield { event: "x", data: { n: 2 } };
    }
    const want = [
      { event: "message", data: "a", id: "1", lastEventId: "1" },
      { event: "x", data: '{"n":2}', id: undefined, lastEventId: "1" },
    ];
    const sources = [
      [{ id: "1", data: "a" }, { event: "x", data: { n: 2 } }],
      generate(),
      new ReadableStream<SSEEvent>({
        start(controller) {
          controller.enqueue({ id: "1", data: "a" });
          controller.enqueue({ event: "x", data: { n: 2 } });
          controller.close();
        },
      }),
    ];
    for (const source of sources) assert.deepEqual(await events(sseResponse(source)), want);
  });

  it("ends the stream when a function source's promise resolves", async () => {
    const reasons: SSECloseReason[] = [];
    const response = sseResponse(async (stream) => {
      await stream.send({ data: "one" });
      await stream.send({ data: "two" });
    }, { onClose: (reason) => reasons.push(reason) });
    assert.deepEqual((await events(response)).map((m) => m.data), ["one", "two"]);
    assert.deepEqual(reasons, ["producer-done"]);
  });

  it("keeps a function source that returns nothing open until it calls close()", async () => {
    let writer!: { send(e: SSEEvent): Promise<void>; close(): void };
    const response = sseResponse((stream) => {
      writer = stream;
    });
    const reader = response.body!.getReader();
    assert.equal(await chunk(reader), ":\n\n");
    await tick();
    writer.send({ data: "a" });
    assert.equal(await chunk(reader), "data: a\n\n");
    writer.send({ data: "b" });
    writer.close();
    assert.equal(await chunk(reader), "data: b\n\n");
    assert.equal(await chunk(reader), "");
  });

  it("hands a function source the request's Last-Event-ID", async () => {
    const request = new Request("http://localhost/", { headers: { "last-event-id": "41" } });
    const response = sseResponse(async (stream) => {
      await stream.send({ id: String(Number(stream.lastEventId) + 1), data: "next" });
    }, { request });
    assert.equal((await events(response))[0].id, "42");
  });
});

describe("sseResponse coalescing", () => {
  it("writes every event sent before the network pulls as one chunk", async () => {
    let writer!: { send(e: SSEEvent): Promise<void>; close(): void };
    const response = sseResponse((stream) => {
      writer = stream;
    });
    const reader = response.body!.getReader();
    await chunk(reader);
    for (let i = 0; i < 100; i++) writer.send({ id: String(i), data: "x" });
    const text = await chunk(reader);
    assert.equal(text.split("\n\n").length - 1, 100, "all 100 events in the first chunk");
    writer.close();
    assert.equal(await chunk(reader), "");
  });
});

describe("sseResponse close signal", () => {
  it("fires once with client-disconnected when the body is cancelled, and stops the producer", async () => {
    const before = live();
    const reasons: SSECloseReason[] = [];
    let signal!: AbortSignal;
    let aborts = 0;
    const response = sseResponse((stream) => {
      signal = stream.signal;
      signal.addEventListener("abort", () => aborts++);
    }, { onClose: (reason) => reasons.push(reason) });
    const reader = response.body!.getReader();
    await chunk(reader);
    assert.equal(live().open, before.open + 1);
    await reader.cancel(new Error("gone"));
    assert.equal(signal.aborted, true);
    assert.ok(signal.reason instanceof SSECloseError);
    assert.equal((signal.reason as SSECloseError).code, "client-disconnected");
    assert.deepEqual(reasons, ["client-disconnected"]);
    assert.equal(aborts, 1);
    assert.deepEqual(live(), before, "no connection, timer, producer or queue left");
  });

  // On Deno and Bun the request's signal is left alone (request_signal.ts): cancel() says it.
  it("closes with client-disconnected when options.request's signal aborts", {
    skip: runtime === "deno" || runtime === "bun",
  }, async () => {
    const controller = new AbortController();
    const request = new Request("http://localhost/", { signal: controller.signal });
    let closed!: Promise<SSECloseReason>;
    const response = sseResponse((stream) => {
      closed = stream.closed;
    }, { request, keepAliveMs: 0 });
    controller.abort();
    assert.equal(await closed, "client-disconnected");
    assert.equal(await response.text(), ":\n\n");
  });

  it("closes with aborted when options.signal aborts", async () => {
    const controller = new AbortController();
    const reasons: SSECloseReason[] = [];
    const response = sseResponse(() => {}, {
      signal: controller.signal,
      onClose: (reason) => reasons.push(reason),
    });
    const text = response.text();
    controller.abort();
    assert.equal(await text, ":\n\n");
    assert.deepEqual(reasons, ["aborted"]);
  });

  it("cancels a ReadableStream source with the close reason", async () => {
    let cancelledWith: unknown;
    let pulls = 0;
    const source = new ReadableStream<SSEEvent>({
      pull(controller) {
        controller.enqueue({ data: String(++pulls) });
      },
      cancel(reason) {
        cancelledWith = reason;
      },
    }, { highWaterMark: 0 });
    const reader = sseResponse(source).body!.getReader();
    await chunk(reader);
    await chunk(reader);
    await reader.cancel();
    await tick();
    assert.ok(cancelledWith instanceof SSECloseError);
    assert.equal(cancelledWith.code, "client-disconnected");
  });

  it("returns an async iterator source when the client leaves", async () => {
    let finished = false;
    async function* endless(): AsyncGenerator<SSEEvent> {
      try {
        for (let n = 0;; n++) {
          yield { data: String(n) };
          await tick();
        }
      } finally {
        finished = true;
      }
    }
    const before = live();
    const reader = sseResponse(endless()).body!.getReader();
    await chunk(reader);
    await chunk(reader);
    await reader.cancel();
    for (let i = 0; i < 20 && !finished; i++) await tick();
    assert.equal(finished, true, "the generator's finally ran");
    assert.deepEqual(live(), before);
  });

  it("rejects sends after the close with SSECloseError, pending ones too", async () => {
    let writer!: { send(e: SSEEvent): Promise<void>; close(): void };
    const response = sseResponse((stream) => {
      writer = stream;
    }, { maxQueuedEvents: 2 });
    writer.send({ data: "half fills the queue" });
    const pending = writer.send({ data: "waits for the network" });
    await response.body!.cancel();
    await rejects(pending, (error) => {
      assert.ok(error instanceof SSECloseError);
      assert.equal(error.code, "client-disconnected");
    });
    await rejects(writer.send({ data: "late" }), (error) => {
      assert.ok(error instanceof SSECloseError);
      assert.match(error.message, /client went away/);
    });
  });
});

describe("sseResponse timers", () => {
  it("sends a keep-alive comment after keepAliveMs of silence, and only then", async () => {
    const clock = fakeClock();
    let writer!: { send(e: SSEEvent): Promise<void>; close(): void };
    const response = sseResponse((stream) => {
      writer = stream;
    }, { clock, keepAliveMs: 1000 });
    const reader = response.body!.getReader();
    await chunk(reader);
    clock.advance(999);
    writer.send({ data: "a" });
    assert.equal(await chunk(reader), "data: a\n\n");
    clock.advance(999); // 999 ms after the event: nothing due yet
    writer.send({ data: "b" });
    assert.equal(await chunk(reader), "data: b\n\n");
    clock.advance(1000);
    assert.equal(await chunk(reader), ":\n\n");
    clock.advance(1000);
    assert.equal(await chunk(reader), ":\n\n");
    await reader.cancel();
    assert.deepEqual(clock.pending(), [], "every timer cleared");
  });

  it("ends the stream cleanly at maxDurationMs, shortened by at most the jitter", async () => {
    for (const [random, endsAt] of [[0, 10_000], [0.999, 9_001]] as const) {
      const clock = fakeClock(random);
      const reasons: SSECloseReason[] = [];
      let writer!: { send(e: SSEEvent): Promise<void> };
      const response = sseResponse((stream) => {
        writer = stream;
      }, { clock, maxDurationMs: 10_000, keepAliveMs: 0, onClose: (r) => reasons.push(r) });
      const reader = response.body!.getReader();
      await chunk(reader);
      clock.advance(endsAt - 1);
      assert.deepEqual(reasons, []);
      writer.send({ id: "1", data: "last" });
      clock.advance(1);
      assert.deepEqual(reasons, ["max-duration"]);
      assert.equal(await chunk(reader), "id: 1\ndata: last\n\n", "what was queued still goes out");
      assert.equal(await chunk(reader), "", "then the body ends");
      assert.deepEqual(clock.pending(), []);
    }
  });

  it("counts the response's timers in sseStats and clears them all on close", async () => {
    const before = live();
    const response = sseResponse(() => {}, { maxDurationMs: 60_000, keepAliveMs: 30_000 });
    // One timer of its own (Workers, Edge), or the shared ticker of Deno and Bun (ticker.ts).
    assert.ok(live().timers >= 1);
    await response.body!.cancel();
    assert.deepEqual(live(), before);
  });
});

describe("sseResponse backpressure", () => {
  it("makes an awaiting producer wait once the queue is half full, then continue", async () => {
    const sent: number[] = [];
    const response = sseResponse(async (stream) => {
      for (let n = 1; n <= 10; n++) {
        await stream.send({ data: String(n) });
        sent.push(n);
      }
    }, { maxQueuedEvents: 4 });
    const reader = response.body!.getReader();
    await chunk(reader);
    for (let i = 0; i < 5; i++) await tick();
    assert.deepEqual(sent, [1, 2], "the third send waits for the network");
    const got: string[] = [];
    for (let text = await chunk(reader); text !== ""; text = await chunk(reader)) got.push(text);
    assert.equal(sent.length, 10);
    assert.equal(got.join(""), [...Array(10)].map((_, i) => `data: ${i + 1}\n\n`).join(""));
  });

  it("lets a burst that is not awaited fill the other half of the queue", async () => {
    const reasons: SSECloseReason[] = [];
    const response = sseResponse(async (stream) => {
      for (let burst = 0; burst < 5; burst++) {
        for (let n = 0; n < 7; n++) stream.send({ data: `${burst}.${n}` });
        await stream.send({ data: `${burst}.last` });
      }
    }, { maxQueuedEvents: 16, onClose: (r) => reasons.push(r) });
    assert.equal((await events(response)).length, 40);
    assert.deepEqual(reasons, ["producer-done"]);
  });

  it("reads a stream source only as the queue has room", async () => {
    let pulls = 0;
    const source = new ReadableStream<SSEEvent>({
      pull(controller) {
        controller.enqueue({ data: String(++pulls) });
      },
    }, { highWaterMark: 0 });
    const response = sseResponse(source, { maxQueuedEvents: 4 });
    for (let i = 0; i < 20; i++) await tick();
    // Four fill the queue and one waits for room: the upstream is paused, not drained.
    assert.ok(pulls <= 6, `pulled ${pulls} times while nobody read`);
    await response.body!.cancel();
  });

  it('closes a client that lets the queue fill with "slow-client" and frees the queue', async () => {
    const before = live();
    const reasons: SSECloseReason[] = [];
    let rejected = 0;
    const response = sseResponse((stream) => {
      // A producer that does not wait: the queue fills, then the policy applies.
      for (let n = 0; n < 100; n++) stream.send({ data: "x".repeat(100) }).catch(() => rejected++);
    }, { maxQueuedBytes: 1000, onClose: (r) => reasons.push(r) });
    assert.deepEqual(reasons, ["slow-client"]);
    assert.deepEqual(live(), before, "the queue is gone with the connection");
    await tick();
    assert.ok(rejected >= 90, `${rejected} sends rejected`);
    await rejects(response.text(), (error) => {
      assert.ok(error instanceof SSECloseError);
      assert.equal(error.code, "slow-client");
    });
  });

  it('keeps the newest events within the bounds with "drop-oldest"', async () => {
    let writer!: { send(e: SSEEvent): Promise<void>; close(): void };
    const response = sseResponse((stream) => {
      writer = stream;
    }, { queuePolicy: "drop-oldest", maxQueuedEvents: 5, maxQueuedBytes: 10_000 });
    const before = sseStats();
    for (let n = 1; n <= 50; n++) {
      writer.send({ id: String(n), data: "snapshot" }); // a snapshot producer does not wait
      assert.ok(sseStats().queuedEvents - before.queuedEvents <= 5);
    }
    writer.close();
    assert.deepEqual((await events(response)).map((m) => m.id), ["46", "47", "48", "49", "50"]);
  });

  it("closes a client that takes nothing for slowClientTimeoutMs while events wait", async () => {
    const clock = fakeClock();
    const reasons: SSECloseReason[] = [];
    const response = sseResponse((stream) => {
      stream.send({ data: "never read" });
    }, { clock, slowClientTimeoutMs: 5000, keepAliveMs: 1000, onClose: (r) => reasons.push(r) });
    // Nobody reads the body, so the event waits in the queue.
    clock.advance(4999);
    assert.deepEqual(reasons, []);
    clock.advance(1);
    assert.deepEqual(reasons, ["slow-client"]);
    assert.deepEqual(clock.pending(), []);
    await rejects(response.text(), (error) => assert.ok(error instanceof SSECloseError));
  });

  it("keeps a quiet client that reads: keep-alives are not a stall", async () => {
    const clock = fakeClock();
    const reasons: SSECloseReason[] = [];
    const response = sseResponse(() => {}, {
      clock,
      slowClientTimeoutMs: 5000,
      keepAliveMs: 1000,
      onClose: (r) => reasons.push(r),
    });
    const reader = response.body!.getReader();
    await chunk(reader);
    for (let i = 0; i < 12; i++) {
      clock.advance(1000);
      assert.equal(await chunk(reader), ":\n\n");
    }
    assert.deepEqual(reasons, []);
    await reader.cancel();
  });
});

describe("sseResponse refuses bad events from application code", () => {
  it("rejects an event name with a newline with SSEEncodeError; the other events go out", async () => {
    const logged: unknown[] = [];
    let refusal: unknown;
    const response = sseResponse(async (stream) => {
      await stream.send({ id: "1", data: "before" });
      try {
        await stream.send({ event: "evil\ndata: injected", data: "x" });
      } catch (error) {
        refusal = error;
      }
      await stream.send({ id: "2", data: "after" });
    }, { logger: { error: (_message, error) => logged.push(error) } });
    const got = await events(response);
    assert.ok(refusal instanceof SSEEncodeError);
    assert.equal(refusal.code, "invalid-event");
    assert.deepEqual(got.map((m) => [m.event, m.data]), [["message", "before"], [
      "message",
      "after",
    ]]);
    assert.deepEqual(logged, [refusal], "also reported, so a send nobody awaits is not lost");
  });

  it("skips an invalid event from a stream source, reports it and goes on", async () => {
    const logged: unknown[] = [];
    const response = sseResponse([{ data: "a" }, { id: "x\0" }, { data: "b" }], {
      logger: { error: (_message, error) => logged.push(error) },
    });
    assert.deepEqual((await events(response)).map((m) => m.data), ["a", "b"]);
    assert.equal(logged.length, 1);
    assert.equal((logged[0] as SSEEncodeError).code, "invalid-id");
  });
});

describe("sseResponse producer errors", () => {
  it("ends the stream with producer-error and never shows the client the error", async () => {
    const logged: unknown[] = [];
    const reasons: SSECloseReason[] = [];
    const response = sseResponse(async (stream) => {
      await stream.send({ data: "ok" });
      throw new Error("database password is hunter2");
    }, { logger: { error: (_m, e) => logged.push(e) }, onClose: (r) => reasons.push(r) });
    const text = await response.text();
    assert.doesNotMatch(text, /hunter2/);
    assert.equal(text, ":\n\ndata: ok\n\n");
    assert.deepEqual(reasons, ["producer-error"]);
    assert.equal((logged[0] as Error).message, "database password is hunter2");
  });

  it("sends the safe event onError maps the error to", async () => {
    async function* upstream(): AsyncGenerator<SSEEvent> {
      yield { data: "partial" };
      throw new TypeError("upstream broke");
    }
    const response = sseResponse(
      upstream(),
      { logger: silent, onError: () => ({ event: "error", data: { retryable: true } }) },
    );
    assert.deepEqual((await events(response)).map((m) => [m.event, m.data]), [
      ["message", "partial"],
      ["error", '{"retryable":true}'],
    ]);
  });

  it("ends the stream when a function source throws synchronously", async () => {
    const reasons: SSECloseReason[] = [];
    const response = sseResponse(() => {
      throw new Error("boom");
    }, { logger: silent, onClose: (r) => reasons.push(r) });
    assert.equal(await response.text(), ":\n\n");
    assert.deepEqual(reasons, ["producer-error"]);
  });

  it("reports an onClose that throws instead of losing it", async () => {
    const logged: string[] = [];
    const response = sseResponse([], {
      onClose() {
        throw new Error("listener bug");
      },
      logger: { error: (message) => logged.push(message) },
    });
    await response.text();
    assert.equal(logged.length, 1);
    assert.match(logged[0], /onClose threw/);
  });
});

describe("sseResponse options", () => {
  it("refuses nonsense limits with SSEResponseError invalid-option, naming the option", () => {
    const refused = (fn: () => unknown, name: RegExp) =>
      assert.throws(fn, (error: unknown) => {
        assert.ok(error instanceof SSEResponseError);
        assert.equal(error.code, "invalid-option");
        assert.match(error.message, name);
        return true;
      });
    refused(() => sseResponse([], { maxQueuedEvents: 0 }), /maxQueuedEvents/);
    refused(() => sseResponse([], { keepAliveMs: -1 }), /keepAliveMs/);
    refused(() => sseResponse([], { maxDurationJitter: 1 }), /maxDurationJitter/);
    // deno-lint-ignore no-explicit-any
    refused(() => sseResponse([], { queuePolicy: "block" as any }), /queuePolicy/);
  });

  it("refuses a source it can't read with SSEResponseError invalid-source", () => {
    const before = live();
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => sseResponse(42 as any, { logger: silent }),
      (error: unknown) => error instanceof SSEResponseError && error.code === "invalid-source",
    );
    assert.deepEqual(live(), before, "nothing left open");
  });

  it("type-checks typed events", async () => {
    type Events = { notification: { text: string }; presence: { online: number } };
    const response = sseResponse<Events>(async (stream) => {
      await stream.send({ event: "notification", data: { text: "hi" } });
      await stream.send({ event: "presence", id: "2", data: { online: 3 } });
      await stream.send({ id: "3" });
      // @ts-expect-error: presence carries { online: number }
      await stream.send({ event: "presence", data: { text: "wrong" } }).catch(() => {});
      // @ts-expect-error: no such event
      await stream.send({ event: "typo", data: 1 }).catch(() => {});
    });
    assert.equal((await events(response)).length, 4);
  });
});

describe("sseResponse encodes a broadcast once", () => {
  it("sends a frozen event shared by many connections as the same bytes to each", async () => {
    const shared = Object.freeze({ id: "7", event: "tick", data: { n: 7 } });
    const responses = [1, 2, 3].map(() =>
      sseResponse(async (stream) => {
        await stream.send(shared);
      })
    );
    for (const response of responses) {
      assert.deepEqual(await events(response), [
        { event: "tick", data: '{"n":7}', id: "7", lastEventId: "7" },
      ]);
    }
  });

  it("re-encodes an unfrozen event edited in place between sends", async () => {
    const event: SSEEvent = { id: "1", data: "first" };
    const response = sseResponse(async (stream) => {
      await stream.send(event);
      event.id = "2";
      event.data = "second";
      await stream.send(event);
    });
    assert.deepEqual((await events(response)).map((m) => [m.id, m.data]), [
      ["1", "first"],
      ["2", "second"],
    ]);
  });
});
