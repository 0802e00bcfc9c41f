// Resumable streams on Workers (workerd): the producer runs under `ctx.waitUntil` of the request
// that started it, and readers on other requests follow it to its end; with the MemoryBroker (one
// isolate) and with the UpstashBroker (whose stream a host hub reads too). Runs under the Bun
// host only (one workerd is enough).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Redis } from "@upstash/redis";
import { createHub } from "../../mod.ts";
import { UpstashBroker } from "../../src/adapters/upstash.ts";
import {
  answerTokens,
  type FakeModelServer,
  startFakeModelServer,
} from "../support/fake_model_server.ts";
import { runtime } from "../support/runtime.ts";
import {
  assertWholeAnswer,
  cancelStream,
  modelRequestsOf,
  startStream,
  until,
} from "../support/stream_helpers.ts";
import { readWithConnect, readWithEventSource } from "../support/stream_readers.ts";
import { startUpstashRestServer, type UpstashRestServer } from "../support/upstash_rest_server.ts";
import { bundleForWorkerd, startWorkerd } from "../support/workerd_process.mjs";

const here = dirname(fileURLToPath(import.meta.url));

describe("resumable streams on workerd", { skip: runtime !== "bun" }, () => {
  let upstash: UpstashRestServer;
  let model: FakeModelServer;
  let worker: Awaited<ReturnType<typeof startWorkerd>> | undefined;
  let topicCount = 0;
  const newTopic = (name: string) => `wd.${name}.${++topicCount}`;

  before(async () => {
    upstash = await startUpstashRestServer();
    model = await startFakeModelServer();
    const module = bundleForWorkerd(
      join(here, "workers", "stream_worker.ts"),
      join(here, "..", ".out", "e2e-streams", "stream_worker.js"),
    );
    worker = await startWorkerd({
      module,
      flags: ["enable_request_signal"],
      bindings: {
        UPSTASH_URL: upstash.url,
        UPSTASH_TOKEN: upstash.token,
        PREFIX: "sw",
        MODEL_URL: model.url,
      },
      allowLocalFetch: true,
    });
  });

  after(async () => {
    const stopped = await Promise.race([
      worker?.stop().then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 5_000)),
    ]);
    if (!stopped && worker) {
      try {
        process.kill(worker.pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    await model?.stop();
    await upstash?.stop();
  });

  const output = () => worker?.output().slice(-4000) ?? "";

  for (const kind of ["memory", "upstash"] as const) {
    it(`${kind}: the producer runs under ctx.waitUntil and readers on other requests follow it to herald.end done, then 204`, async () => {
      const base = `${worker!.url}/${kind}`;
      const topic = newTopic(kind);
      const tokens = 150;
      const { started, cursor } = await startStream(base, topic, { tokens, paceMs: 10 });
      assert.equal(started, true);
      // The start request has been answered: what follows runs under waitUntil only.
      const events = `${base}/events?topic=${topic}`;
      const [viaConnect, viaEventSource] = await Promise.all([
        readWithConnect(events, { cursor, timeoutMs: 60_000 }),
        readWithEventSource(events, { cursor, timeoutMs: 60_000 }),
      ]);
      assertWholeAnswer(viaConnect, tokens, { status: "done" }, `connect()\n${output()}`);
      assertWholeAnswer(viaEventSource, tokens, { status: "done" }, `eventsource\n${output()}`);
      assert.equal(modelRequestsOf(model.requests, topic).length, 1);
    });

    it(`${kind}: cancelStream on another request closes the producer's model connection within 1 s`, async () => {
      const base = `${worker!.url}/${kind}`;
      const topic = newTopic(`${kind}-cancel`);
      const { cursor } = await startStream(base, topic, { tokens: 100_000, paceMs: 5 });
      const reader = readWithConnect(`${base}/events?topic=${topic}`, {
        cursor,
        timeoutMs: 60_000,
      });
      await until(() => modelRequestsOf(model.requests, topic).length > 0, "the model request");
      const [request] = modelRequestsOf(model.requests, topic);
      await until(() => request.tokensSent >= 30, "30 tokens");
      const cancelledMs = Date.now();
      await cancelStream(base, topic, "stop-button");
      await until(() => request.closedMs !== undefined, "the model's connection to close", 10_000);
      assert.ok(
        request.closedMs! - cancelledMs <= 1_000,
        `closed ${request.closedMs! - cancelledMs} ms after cancelStream\n${output()}`,
      );
      const result = await reader;
      assert.deepEqual(result.end, { status: "cancelled", reason: "stop-button" }, output());
      assert.deepEqual(result.tokens, answerTokens(result.tokens.length));
    });

    it(`${kind}: idleCancelMs: when the reader on another request leaves, the producer's model request is closed within idleCancelMs + 2 s`, async () => {
      const base = `${worker!.url}/${kind}`;
      const topic = newTopic(`${kind}-idle`);
      const idleCancelMs = 1_000;
      const { cursor } = await startStream(base, topic, {
        tokens: 100_000,
        paceMs: 5,
        idleCancelMs,
      });
      const leave = new AbortController();
      const reader = readWithConnect(`${base}/events?topic=${topic}`, {
        cursor,
        timeoutMs: 60_000,
        signal: leave.signal,
      });
      await until(() => modelRequestsOf(model.requests, topic).length > 0, "the model request");
      const [request] = modelRequestsOf(model.requests, topic);
      await until(() => request.tokensSent >= 30, "30 tokens");
      leave.abort();
      const leftMs = Date.now();
      await reader;
      await until(
        () => request.closedMs !== undefined,
        "the unwatched model request to close",
        idleCancelMs + 15_000,
      );
      assert.ok(
        request.closedMs! - leftMs <= idleCancelMs + 2_000,
        `closed ${request.closedMs! - leftMs} ms after the reader left\n${output()}`,
      );
      const back = await readWithConnect(`${base}/events?topic=${topic}`, {
        cursor,
        timeoutMs: 30_000,
      });
      assert.deepEqual(back.end, { status: "cancelled", reason: "unwatched" }, output());
    });
  }

  it("a stream produced on workerd over Upstash is read whole by a hub on the host", async () => {
    const topic = newTopic("host");
    const { cursor } = await startStream(`${worker!.url}/upstash`, topic, {
      tokens: 80,
      paceMs: 5,
    });
    const broker = new UpstashBroker({
      redis: new Redis({ url: upstash.url, token: upstash.token, enableTelemetry: false }),
      prefix: "sw",
    });
    try {
      const hub = createHub({ broker });
      const controller = new AbortController();
      const stream = await hub.subscribe({
        topics: [topic],
        lastEventId: cursor,
        signal: controller.signal,
      });
      const texts: string[] = [];
      let end: unknown;
      const reader = stream.getReader();
      const deadline = Date.now() + 60_000;
      while (end === undefined && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        if (value.event === "token") texts.push((value.data as { text: string }).text);
        if (value.event === "herald.end") end = value.data;
      }
      controller.abort();
      assert.deepEqual(texts, answerTokens(80));
      assert.deepEqual(end, { status: "done" });
    } finally {
      broker.close();
    }
  });
});
