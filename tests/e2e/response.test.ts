// sseResponse behind real servers on 127.0.0.1 with real clients: Deno.serve or Bun.serve (the host
// running this file), and workerd (a spawned worker, tested under the Deno host only).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { EventSource } from "eventsource";
import { SSECloseError, type SSECloseReason, SSEEncodeError, sseResponse } from "../../mod.ts";
import { type BunServerLike, bunSSE } from "../../bun.ts";
import { sseStats } from "../../server.ts";
import { runtime } from "../support/runtime.ts";
import { serve } from "../support/serve.ts";
import { bundleForWorkerd, startWorkerd } from "../support/workerd_process.mjs";

const here = new URL(".", import.meta.url).pathname;
const host = runtime === "deno" ? "Deno.serve" : "Bun.serve";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(10);
  }
}

function live() {
  const { open, timers, producers, queuedEvents, queuedBytes } = sseStats();
  return { open, timers, producers, queuedEvents, queuedBytes };
}

/** Opens a stream with fetch and reads its first chunk (the comment sent at once). */
async function open(url: string, headers?: HeadersInit) {
  const response = await fetch(url, { headers });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  const first = await reader.read();
  return { response, reader, first: new TextDecoder().decode(first.value) };
}

interface Received {
  ids: string[];
  opens: number;
}

/** Collects events with the `eventsource` package until `count` arrived (it reconnects itself). */
function collect(url: string, count: number, timeoutMs = 20_000): Promise<Received> {
  return new Promise((resolve, reject) => {
    const source = new EventSource(url);
    const got: Received = { ids: [], opens: 0 };
    const timer = setTimeout(() => {
      source.close();
      reject(new Error(`timed out with ${JSON.stringify(got)}`));
    }, timeoutMs);
    source.onopen = () => got.opens++;
    source.onmessage = (event) => {
      got.ids.push(event.lastEventId);
      if (got.ids.length >= count) {
        clearTimeout(timer);
        source.close();
        resolve(got);
      }
    };
  });
}

describe(`sseResponse on ${host}`, () => {
  it("the producer's signal fires with client-disconnected at once when a fetch client cancels", async () => {
    let signal: AbortSignal | undefined;
    let abortedAt = 0;
    const server = await serve((request) =>
      sseResponse((stream) => {
        signal = stream.signal;
        signal.addEventListener("abort", () => (abortedAt = performance.now()));
      }, { request, keepAliveMs: 60_000 })
    );
    try {
      const { reader, first } = await open(server.url);
      assert.equal(first, ":\n\n", "the first bytes arrive before any event");
      const cancelledAt = performance.now();
      await reader.cancel();
      await waitFor("the abort", () => (abortedAt ? true : undefined), 5_000);
      const latencyMs = abortedAt - cancelledAt;
      console.log(`  disconnect noticed after ${latencyMs.toFixed(1)} ms on ${host}`);
      assert.ok(signal!.reason instanceof SSECloseError);
      assert.equal(signal!.reason.code, "client-disconnected");
      // "At once": far below the 60 s keep-alive, so no write was needed to notice.
      assert.ok(latencyMs < 1_000, `noticed after ${latencyMs} ms`);
    } finally {
      await server.close();
    }
  });

  it("an EventSource client that closes is noticed at once", async () => {
    const reasons: SSECloseReason[] = [];
    const server = await serve((request) =>
      sseResponse((stream) => {
        stream.send({ id: "1", data: "hello" });
      }, { request, keepAliveMs: 60_000, onClose: (r) => reasons.push(r) })
    );
    try {
      const source = new EventSource(server.url);
      await new Promise((resolve) => (source.onmessage = resolve));
      source.close();
      await waitFor("the close", () => (reasons.length ? true : undefined), 5_000);
      assert.deepEqual(reasons, ["client-disconnected"]);
    } finally {
      await server.close();
    }
  });

  it("after 500 connect/disconnect cycles no connection, producer, timer or queue is left", async () => {
    const before = sseStats();
    const server = await serve((request) =>
      sseResponse(async (stream) => {
        // A live producer: ticks until the client leaves; its promise settles only then.
        for (let n = 1; !stream.signal.aborted; n++) {
          await stream.send({ id: String(n), data: "tick" }).catch(() => {});
          await sleep(50);
        }
      }, { request, keepAliveMs: 5_000, maxDurationMs: 120_000 })
    );
    const cycles = 500;
    const concurrency = 10;
    let started = 0;
    const t0 = performance.now();
    try {
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (started < cycles) {
          started++;
          const { reader, first } = await open(server.url);
          assert.ok(first.startsWith(":\n\n"), JSON.stringify(first));
          await reader.read(); // one event
          await reader.cancel();
        }
      }));
      const after = await waitFor("every stream to close and every producer to stop", () => {
        const now = live();
        const base = {
          open: before.open,
          timers: before.timers,
          producers: before.producers,
          queuedEvents: before.queuedEvents,
          queuedBytes: before.queuedBytes,
        };
        return JSON.stringify(now) === JSON.stringify(base) ? sseStats() : undefined;
      });
      console.log(
        `  ${cycles} cycles in ${(performance.now() - t0).toFixed(0)} ms on ${host}; left: ` +
          JSON.stringify(live()),
      );
      assert.equal(after.totalOpened - before.totalOpened, cycles);
      const disconnected = (after.closedByReason["client-disconnected"] ?? 0) -
        (before.closedByReason["client-disconnected"] ?? 0);
      assert.equal(disconnected, cycles, "every one closed as client-disconnected");
    } finally {
      await server.close();
    }
  });

  for (const queuePolicy of ["close", "drop-oldest"] as const) {
    it(`a client that never reads: the queue stays under maxQueuedBytes and "${queuePolicy}" applies`, async () => {
      const maxQueuedBytes = 256 * 1024;
      const eventBytes = 16 * 1024;
      const maxEvents = 2_000; // 32 MiB offered: far more than socket buffers and queue hold
      let peakQueuedBytes = 0;
      let offered = 0;
      let reason: SSECloseReason | undefined;
      const base = sseStats().queuedBytes;
      const server = await serve((request) =>
        sseResponse(async (stream) => {
          const payload = "x".repeat(eventBytes - 16);
          for (let n = 0; n < maxEvents && !stream.signal.aborted; n++) {
            // A producer that does not wait for the client.
            stream.send({ id: String(n), data: payload }).catch(() => {});
            offered++;
            peakQueuedBytes = Math.max(peakQueuedBytes, sseStats().queuedBytes - base);
            if (n % 16 === 15) await sleep(1);
          }
          if (queuePolicy === "drop-oldest") await stream.closed;
        }, {
          request,
          maxQueuedBytes,
          queuePolicy,
          logger: { error() {} },
          onClose: (r) => (reason = r),
        })
      );
      let socket: Socket | undefined;
      try {
        socket = connect(server.port, "127.0.0.1");
        socket.pause(); // never read
        socket.on("error", () => {});
        socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
        if (queuePolicy === "close") {
          await waitFor("the slow-client close", () => reason, 15_000);
          assert.equal(reason, "slow-client");
        } else {
          await waitFor("the producer to offer everything", () => {
            return offered >= maxEvents ? true : undefined;
          }, 15_000);
          assert.equal(reason, undefined, "the connection stays open");
        }
        console.log(
          `  never-reading client (${queuePolicy}, ${host}): ${offered} events offered ` +
            `(${(offered * eventBytes / 1048576).toFixed(1)} MiB), peak queue ${peakQueuedBytes} B`,
        );
        assert.ok(offered * eventBytes > 4 * maxQueuedBytes, "the producer outran the bound");
        assert.ok(peakQueuedBytes <= maxQueuedBytes, `peak ${peakQueuedBytes} B`);
        assert.ok(peakQueuedBytes > maxQueuedBytes / 2, "the queue did fill: the client was stuck");
      } finally {
        socket?.destroy();
        if (queuePolicy === "drop-oldest") {
          await waitFor("the close after the socket went", () => reason, 10_000);
        }
        await server.close();
      }
    });
  }

  it("maxDurationMs ends the stream cleanly and an EventSource client continues where it was", async () => {
    const reasons: SSECloseReason[] = [];
    const server = await serve((request) =>
      sseResponse(async (stream) => {
        let n = Number(stream.lastEventId ?? 0);
        while (!stream.signal.aborted) {
          n++;
          await stream.send({ id: String(n), data: `event ${n}` }).catch(() => {});
          await sleep(20);
        }
      }, { request, maxDurationMs: 300, retryMs: 50, onClose: (r) => reasons.push(r) })
    );
    try {
      const got = await collect(server.url, 40);
      assert.deepEqual(got.ids, Array.from({ length: 40 }, (_, i) => String(i + 1)));
      assert.ok(got.opens >= 2, `reconnected (${got.opens} connections)`);
      assert.ok(reasons.includes("max-duration"), JSON.stringify(reasons));
    } finally {
      await server.close();
    }
  });

  it("an event name with a newline gives the caller SSEEncodeError; the connection goes on", async () => {
    let refusal: unknown;
    const server = await serve((request) =>
      sseResponse(async (stream) => {
        await stream.send({ id: "1", data: "before" });
        try {
          await stream.send({ event: "x\nid: 666", data: "injected" });
        } catch (error) {
          refusal = error;
        }
        await stream.send({ id: "2", data: "after" });
      }, { request, logger: { error() {} } })
    );
    try {
      const got = await collect(server.url, 2);
      assert.deepEqual(got.ids, ["1", "2"]);
      assert.ok(refusal instanceof SSEEncodeError);
      assert.equal(refusal.code, "invalid-event");
    } finally {
      await server.close();
    }
  });
});

describe("Bun's 10 s idle timeout", { skip: runtime !== "bun" }, () => {
  /** Opens a quiet stream that sends one event after 15 s (Bun's idle check
   * runs every few seconds: a 10 s timeout strikes between 10 and 14 s); resolves with what the client saw. */
  async function quietFor15s(url: string): Promise<string> {
    const response = await fetch(url);
    const reader = response.body!.getReader();
    let text = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text + "[end]";
        text += new TextDecoder().decode(value);
        if (text.includes("data: still here")) return text;
      }
    } catch (error) {
      return text + `[error: ${(error as Error).message}]`;
    }
  }

  it("a quiet stream outlives it: with bunSSE, and with the default keep-alive", async () => {
    const quiet = (stream: { send(e: { data: string }): Promise<void>; signal: AbortSignal }) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => stream.send({ data: "still here" }).then(resolve), 15_000);
        stream.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    // Bun.serve with its default idleTimeout (10 s).
    const server = await serve((request, bunServer) => {
      const path = new URL(request.url).pathname;
      if (path === "/bunSSE") {
        return bunSSE(bunServer as BunServerLike, request, quiet, { keepAliveMs: 60_000 });
      }
      if (path === "/default") return sseResponse(quiet, { request });
      // The control: no keep-alive before 10 s and the timeout left on.
      return sseResponse(quiet, { request, keepAliveMs: 60_000 });
    });
    try {
      const [withBunSSE, withDefault, control] = await Promise.all([
        quietFor15s(`${server.url}/bunSSE`),
        quietFor15s(`${server.url}/default`),
        quietFor15s(`${server.url}/control`),
      ]);
      assert.match(withBunSSE, /data: still here/);
      assert.match(withDefault, /data: still here/);
      assert.match(withDefault, /^:\n\n:\n\n/, "an 8 s keep-alive came first");
      assert.doesNotMatch(control, /still here/, "without either, Bun closes the quiet stream");
    } finally {
      await server.close();
    }
  });
});

describe("sseResponse on workerd", { skip: runtime !== "deno" }, () => {
  const module = join(here, "..", ".out", "e2e-response", "response_worker.js");
  before(() => {
    bundleForWorkerd(join(here, "workers", "response_worker.ts"), module);
  });

  for (const flags of [[], ["enable_request_signal"]]) {
    describe(flags.length ? "with enable_request_signal" : "without enable_request_signal", () => {
      let worker: Awaited<ReturnType<typeof startWorkerd>> | undefined;
      before(async () => {
        worker = await startWorkerd({ module, flags });
      });
      after(() => worker?.stop());
      const stats = async () => await (await fetch(`${worker!.url}/stats`)).json();

      it("notices a client that left within keepAliveMs + 1 s", async () => {
        const keepAliveMs = 500;
        const before = (await stats()).closes.length;
        const { reader } = await open(`${worker!.url}/stream?keepAliveMs=${keepAliveMs}`);
        await sleep(100);
        const cancelledAt = performance.now();
        await reader.cancel();
        const close = await waitFor("the close on workerd", async () => {
          const now = await stats();
          return now.closes.length > before ? now.closes.at(-1) : undefined;
        }, 10_000);
        const latencyMs = performance.now() - cancelledAt;
        console.log(`  workerd ${flags.join(" ") || "(no flags)"}: noticed after ${latencyMs} ms`);
        assert.equal(close.reason, "client-disconnected");
        assert.ok(latencyMs < keepAliveMs + 1_000, `noticed after ${latencyMs} ms`);
      });

      it("after 500 connect/disconnect cycles no connection, producer, timer or queue is left", {
        skip: flags.length > 0, // once is enough: the flag changes nothing here
      }, async () => {
        const cycles = 500;
        const concurrency = 25;
        const before = await stats();
        let started = 0;
        const t0 = performance.now();
        await Promise.all(Array.from({ length: concurrency }, async () => {
          while (started < cycles) {
            started++;
            const { reader, first } = await open(
              `${worker!.url}/stream?keepAliveMs=200&intervalMs=50`,
            );
            assert.ok(first.startsWith(":\n\n"), JSON.stringify(first));
            await reader.read();
            await reader.cancel();
          }
        }));
        const after = await waitFor("every stream on workerd to close", async () => {
          const now = await stats();
          return now.open === before.open && now.producers === before.producers ? now : undefined;
        }, 20_000);
        console.log(
          `  workerd: ${cycles} cycles in ${(performance.now() - t0).toFixed(0)} ms; left: ` +
            JSON.stringify({
              open: after.open,
              timers: after.timers,
              producers: after.producers,
              queuedEvents: after.queuedEvents,
              queuedBytes: after.queuedBytes,
            }),
        );
        assert.equal(after.totalOpened - before.totalOpened, cycles);
        assert.equal(after.timers, before.timers);
        assert.equal(after.queuedEvents, before.queuedEvents);
        assert.equal(after.queuedBytes, before.queuedBytes);
      });

      it("maxDurationMs ends the stream cleanly and the client continues", async () => {
        const got = await collect(
          `${worker!.url}/stream?maxDurationMs=300&retryMs=50&intervalMs=20&keepAliveMs=1000`,
          30,
        );
        assert.deepEqual(got.ids, Array.from({ length: 30 }, (_, i) => String(i + 1)));
        assert.ok(got.opens >= 2, `reconnected (${got.opens} connections)`);
        const reasons = (await stats()).closes.map((c: { reason: string }) => c.reason);
        assert.ok(reasons.includes("max-duration"), JSON.stringify(reasons));
      });

      it("an event name with a newline is refused; the other events arrive", async () => {
        const response = await fetch(`${worker!.url}/invalid`);
        const text = await response.text();
        assert.equal(text, ":\n\nid: 1\ndata: before\n\nevent: end\nid: 2\ndata: after\n\n");
        assert.deepEqual((await stats()).refusals.slice(-1), ["invalid-event"]);
      });
    });
  }
});
