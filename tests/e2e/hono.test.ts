// Herald's Hono adapter (`sse(c, source, options)` from @herald/sse/hono) behind real servers:
// the Deno or Bun host serving the app in-process, and workerd (under the Deno host only).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { createParser, type SSEMessage } from "../../mod.ts";
import { sseStats } from "../../server.ts";
import { runtime } from "../support/runtime.ts";
import { serve } from "../support/serve.ts";
import { bundleForWorkerd, startWorkerd } from "../support/workerd_process.mjs";
import { createApp } from "./workers/hono_app.ts";

const here = new URL(".", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Target {
  url: string;
  /** sseStats() where the app runs, with the close reasons it saw. */
  stats(): Promise<{ closes: string[]; open: number; producers: number; timers: number }>;
}

/** Reads `count` events from a fresh connection, then cancels it. */
async function readEvents(url: string, count: number, headers?: HeadersInit) {
  const response = await fetch(url, { headers });
  const events: SSEMessage[] = [];
  const parser = createParser({ onEvent: (m) => events.push(m) });
  const reader = response.body!.getReader();
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    parser.feed(value);
  }
  return { response, events, reader };
}

/** The same checks against any running copy of the app. */
function behaves(name: string, target: () => Target, keepAliveMs: number, noticeWithinMs: number) {
  describe(name, () => {
    it("streams typed events with the event-stream headers and the context's own", async () => {
      const { response, events, reader } = await readEvents(
        `${target().url}/events?keepAliveMs=${keepAliveMs}`,
        3,
      );
      await reader.cancel();
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
      assert.equal(response.headers.get("cache-control"), "no-cache, no-transform");
      assert.equal(response.headers.get("x-served-by"), "hono");
      assert.deepEqual(events.map((m) => [m.event, m.id, m.data]), [
        ["tick", "1", '{"n":1}'],
        ["tick", "2", '{"n":2}'],
        ["tick", "3", '{"n":3}'],
      ]);
    });

    it("resumes after the Last-Event-ID the client sends", async () => {
      const { events, reader } = await readEvents(
        `${target().url}/events?keepAliveMs=${keepAliveMs}`,
        2,
        {
          "last-event-id": "10",
        },
      );
      await reader.cancel();
      assert.deepEqual(events.map((m) => m.id), ["11", "12"]);
    });

    it(`notices a client that left (within ${noticeWithinMs} ms) and stops the producer`, async () => {
      const baseline = await target().stats();
      const before = baseline.closes.length;
      const { reader } = await readEvents(`${target().url}/events?keepAliveMs=${keepAliveMs}`, 1);
      const cancelledAt = performance.now();
      await reader.cancel();
      let stats = baseline;
      while (performance.now() - cancelledAt < 10_000) {
        stats = await target().stats();
        if (stats.closes.length > before) break;
        await sleep(10);
      }
      const latencyMs = performance.now() - cancelledAt;
      assert.equal(stats.closes.at(-1), "client-disconnected");
      assert.ok(latencyMs < noticeWithinMs, `noticed after ${latencyMs} ms`);
      for (let i = 0; i < 100 && stats.producers > baseline.producers; i++) {
        await sleep(10);
        stats = await target().stats();
      }
      // At most the baseline: streams of the tests before may still be closing (on Workers, at
      // their next keep-alive), this one must be gone.
      assert.ok(stats.producers <= baseline.producers, "the producer returned");
      assert.ok(stats.open <= baseline.open);
      assert.ok(stats.timers <= baseline.timers);
    });
  });
}

const hostCloses: string[] = [];
let hostServer: Awaited<ReturnType<typeof serve>> | undefined;
describe(`Hono adapter (host: ${runtime})`, () => {
  before(async () => {
    const app = createApp(hostCloses);
    hostServer = await serve((request) => app.fetch(request));
  });
  after(() => hostServer?.close());
  behaves(
    `on ${runtime === "deno" ? "Deno.serve" : "Bun.serve"}`,
    () => ({
      url: hostServer!.url,
      stats: () => Promise.resolve({ ...sseStats(), closes: hostCloses }),
    }),
    60_000,
    1_000, // at once: the body's cancel() fires, no keep-alive needed
  );
});

describe("Hono adapter on workerd", { skip: runtime !== "deno" }, () => {
  let worker: Awaited<ReturnType<typeof startWorkerd>> | undefined;
  before(async () => {
    const module = bundleForWorkerd(
      join(here, "workers", "hono_worker.ts"),
      join(here, "..", ".out", "e2e-hono", "hono_worker.js"),
    );
    worker = await startWorkerd({ module });
  });
  after(() => worker?.stop());
  behaves(
    "in a worker",
    () => ({
      url: worker!.url,
      stats: async () => await (await fetch(`${worker!.url}/stats`)).json(),
    }),
    500,
    1_500, // keepAliveMs + 1 s: Workers notice at the next write
  );
});
