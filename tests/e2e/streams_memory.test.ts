// Resumable streams on the MemoryBroker, over real HTTP on 127.0.0.1 (Deno.serve or Bun.serve, per
// host): a producer relays a fake model's answer with relayModelStream, and readers (Herald's
// connect() and the eventsource package) follow it through a proxy that cuts their connections
// at random byte positions. Each test is named after what it pins.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { createHub, MemoryBroker } from "../../mod.ts";
import { ModelStreamError, relayModelStream } from "../../src/hub/relay_model_stream.ts";
import { type ChaosProxy, startChaosProxy } from "../support/chaos_proxy.ts";
import {
  answerTokens,
  type FakeModelServer,
  startFakeModelServer,
} from "../support/fake_model_server.ts";
import { seededRandom } from "../support/random.ts";
import { runtime } from "../support/runtime.ts";
import { type RunningServer, serve } from "../support/serve.ts";
import {
  assertWholeAnswer,
  cancelStream,
  modelRequestsOf,
  resumeOnce,
  startStream,
  summarize,
  until,
} from "../support/stream_helpers.ts";
import { readWithConnect, readWithEventSource } from "../support/stream_readers.ts";
import { streamApp } from "./workers/stream_app.ts";

const seed = Number(process.env.STREAM_SEED ?? Date.now() % 1_000_000);

describe(`resumable streams on MemoryBroker (host: ${runtime}, seed ${seed})`, () => {
  let model: FakeModelServer;
  let server: RunningServer;
  let proxy: ChaosProxy;
  const logged: { message: string; error: unknown }[] = [];
  let topicCount = 0;
  const newTopic = (name: string) => `mem.${name}.${++topicCount}`;

  before(async () => {
    model = await startFakeModelServer();
    const hub = createHub({ broker: new MemoryBroker({ maxEventsPerTopic: 10_000 }) });
    const app = streamApp({
      hub,
      modelUrl: model.url,
      logger: { error: (message, error) => logged.push({ message, error }) },
    });
    server = await serve((request) => app.handle(request), { bunIdleTimeoutSeconds: 0 });
    proxy = await startChaosProxy({
      targetPort: server.port,
      random: seededRandom(seed),
      cutAfterBytes: { min: 120, max: 2_000 },
      // Bounded, so a reader always gets through in the end: Bun 1.4.5's fetch drops the body
      // bytes it received when the connection then ends early, so a reader that fell more than
      // a cut's budget behind (a replay written as one chunk) could be cut before every event,
      // forever. Hundreds of cuts still land inside events, characters and headers.
      maxCuts: 300,
    });
  });

  after(async () => {
    await proxy?.stop();
    await server?.close();
    await model?.stop();
  });

  it("the fake model server records each request and sees a client's abort within 1 s", async () => {
    const controller = new AbortController();
    const response = await fetch(`${model.completionsUrl}?tag=self&tokens=1000&paceMs=5`, {
      method: "POST",
      body: JSON.stringify({ stream: true }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    const abortedMs = Date.now();
    controller.abort();
    await until(() => model.requestsTagged("self")[0]?.closedMs !== undefined, "the close");
    const [record] = model.requestsTagged("self");
    assert.deepEqual(record.body, { stream: true });
    assert.equal(record.end, "client-closed");
    assert.ok(
      record.closedMs! - abortedMs < 1_000,
      `closed ${record.closedMs! - abortedMs} ms after`,
    );

    // Its faults reach relayModelStream as the provider's would.
    const relay = async (query: string) => {
      const upstream = await fetch(`${model.completionsUrl}?${query}`, { method: "POST" });
      const out = { write(_event: unknown) {}, signal: new AbortController().signal };
      return await relayModelStream(upstream, out).catch((error) => error);
    };
    const dropped = await relay("tag=self-drop&tokens=10&paceMs=1&dropAfter=3");
    assert.ok(dropped instanceof ModelStreamError);
    assert.equal(dropped.code, "model-truncated");
    const failed = await relay("tag=self-error&tokens=10&paceMs=1&errorAfter=3");
    assert.equal(failed.code, "model-error");
    assert.deepEqual(await relay("tag=self-ok&tokens=4&paceMs=1"), { format: "openai", tokens: 4 });
  });

  it("exactly once under chaos: readers cut mid-chunk and dropped after k events each get every token once, in order, then herald.end done, then 204", async () => {
    const topic = newTopic("chaos");
    const tokens = 300;
    const { started, cursor } = await startStream(server.url, topic, {
      tokens,
      paceMs: 5,
      coalesceMs: 20,
    });
    assert.equal(started, true);
    const through = `${proxy.url}/events?topic=${topic}`;
    const direct = `${server.url}/events?topic=${topic}`;
    const random = seededRandom(seed + 1);
    const timeoutMs = 90_000;
    const cutsBefore = proxy.cuts;
    const readers = await Promise.all([
      readWithConnect(through, { cursor, timeoutMs }),
      readWithConnect(through, { cursor, timeoutMs }),
      readWithConnect(direct, {
        cursor,
        timeoutMs,
        dropAfterEvents: { random, max: 25, maxDrops: 40 },
      }),
      readWithConnect(through, {
        cursor,
        timeoutMs,
        dropAfterEvents: { random: seededRandom(seed + 2), max: 40, maxDrops: 20 },
      }),
      readWithEventSource(through, { cursor, timeoutMs }),
      readWithEventSource(direct, { cursor, timeoutMs }),
    ]);
    readers.forEach((result, i) => assertWholeAnswer(result, tokens, { status: "done" }, `#${i}`));
    assert.ok(
      proxy.cuts - cutsBefore >= 8,
      `the proxy cut connections (${proxy.cuts - cutsBefore})`,
    );
    assert.ok(readers[2].drops > 0 && readers[3].drops > 0, "the readers dropped on purpose");
    assert.equal(modelRequestsOf(model.requests, topic).length, 1, "one model request");
  });

  it("a reader arriving after the end gets the whole answer, the response closes, and a resume from the end answers 204", async () => {
    const topic = newTopic("late");
    const { cursor } = await startStream(server.url, topic, { tokens: 40, paceMs: 1 });
    await until(
      () => modelRequestsOf(model.requests, topic)[0]?.end === "done",
      "the model's answer to end",
    );
    const events = `${server.url}/events?topic=${topic}`;
    const late = await readWithConnect(events, { cursor, timeoutMs: 30_000 });
    assertWholeAnswer(late, 40, { status: "done" }, "late connect()");
    const lateSource = await readWithEventSource(events, { cursor, timeoutMs: 30_000 });
    assertWholeAnswer(lateSource, 40, { status: "done" }, "late eventsource");
    // The replay's response closes by itself after herald.end (text() returns).
    const replay = await resumeOnce(events, cursor);
    assert.equal(replay.status, 200);
    assert.match(replay.body, /event: herald\.end/);
    // herald.end is the last event: its id is the end of the stream.
    const endId = lastIdOf(replay.body);
    assert.equal((await resumeOnce(events, endId)).status, 204, "a resume at the end");
  });

  it("one producer: 20 concurrent startStream calls for one topic start it once, with one model request and one cursor", async () => {
    const topic = newTopic("once");
    const calls = await Promise.all(
      Array.from({ length: 20 }, () => startStream(server.url, topic, { tokens: 30, paceMs: 2 })),
    );
    assert.equal(calls.filter((c) => c.started).length, 1, JSON.stringify(calls));
    assert.equal(new Set(calls.map((c) => c.cursor)).size, 1, "the same cursor for every call");
    const result = await readWithConnect(`${server.url}/events?topic=${topic}`, {
      cursor: calls[0].cursor,
      timeoutMs: 30_000,
    });
    assertWholeAnswer(result, 30, { status: "done" }, "reader");
    // A call after the end runs nothing and answers the same cursor.
    const again = await startStream(server.url, topic, { tokens: 30, paceMs: 2 });
    assert.deepEqual(again, { started: false, cursor: calls[0].cursor });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(modelRequestsOf(model.requests, topic).length, 1, "exactly one model request");
  });

  it("cancelStream closes the model's connection within 1 s; readers get herald.end cancelled with the reason", async () => {
    const topic = newTopic("cancel");
    const { cursor } = await startStream(server.url, topic, { tokens: 5_000, paceMs: 5 });
    const events = `${server.url}/events?topic=${topic}`;
    let cancelledMs = 0;
    const reader = readWithConnect(events, {
      cursor,
      timeoutMs: 30_000,
      onToken(_text, result) {
        if (result.tokens.length === 20 && cancelledMs === 0) {
          cancelledMs = Date.now();
          cancelStream(server.url, topic, "stop-button").catch((error) => {
            logged.push({ message: "cancel failed", error });
          });
        }
      },
    });
    const result = await reader;
    assert.equal(result.end?.status, "cancelled", JSON.stringify(result.end));
    assert.equal(result.end?.reason, "stop-button");
    assert.deepEqual(result.tokens, answerTokens(result.tokens.length), "the tokens before it");
    assert.equal(result.statuses.at(-1), 204);
    const [request] = modelRequestsOf(model.requests, topic);
    await until(() => request.closedMs !== undefined, "the model's connection to close", 5_000);
    assert.equal(request.end, "client-closed");
    assert.ok(
      request.closedMs! - cancelledMs <= 1_000,
      `closed ${request.closedMs! - cancelledMs} ms after cancelStream`,
    );
  });

  it("idleCancelMs: when every reader has left, the model request is closed within idleCancelMs + 2 s and the stream ends cancelled unwatched", async () => {
    const topic = newTopic("idle");
    const idleCancelMs = 1_000;
    const { cursor } = await startStream(server.url, topic, {
      tokens: 5_000,
      paceMs: 5,
      idleCancelMs,
    });
    const events = `${server.url}/events?topic=${topic}`;
    // Two readers come and go, then leave for good.
    const leave = new AbortController();
    const readers = [
      readWithConnect(events, { cursor, timeoutMs: 60_000, signal: leave.signal }),
      readWithEventSource(events, { cursor, timeoutMs: 60_000, signal: leave.signal }),
    ];
    const [request] = await waitForRequest(topic);
    await until(() => request.tokensSent >= 30, "30 tokens sent");
    leave.abort();
    const leftMs = Date.now();
    await Promise.all(readers);
    await until(
      () => request.closedMs !== undefined,
      () => `the model request to close (${request.tokensSent} tokens sent)`,
      idleCancelMs + 10_000,
    );
    assert.equal(request.end, "client-closed");
    assert.ok(
      request.closedMs! - leftMs <= idleCancelMs + 2_000,
      `closed ${request.closedMs! - leftMs} ms after the last reader left`,
    );
    assert.ok(
      request.closedMs! - leftMs >= idleCancelMs - 250,
      `not before idleCancelMs: closed ${request.closedMs! - leftMs} ms after the readers left`,
    );
    // Coming back later: the answer so far, then the end.
    const back = await readWithConnect(events, { cursor, timeoutMs: 30_000 });
    assert.deepEqual(back.tokens, answerTokens(back.tokens.length));
    assert.deepEqual(back.end, { status: "cancelled", reason: "unwatched" });
    assert.equal(back.statuses.at(-1), 204, summarize(back.statuses));
  });

  it("idleCancelMs: a stream nobody ever reads is cancelled unwatched idleCancelMs after its start", async () => {
    const topic = newTopic("never-read");
    const idleCancelMs = 800;
    const startedMs = Date.now();
    const { cursor } = await startStream(server.url, topic, {
      tokens: 5_000,
      paceMs: 5,
      idleCancelMs,
    });
    const [request] = await waitForRequest(topic);
    await until(() => request.closedMs !== undefined, "the model request to close", 15_000);
    const elapsedMs = request.closedMs! - startedMs;
    assert.ok(elapsedMs <= idleCancelMs + 2_000, `closed ${elapsedMs} ms after the start`);
    assert.ok(elapsedMs >= idleCancelMs - 250, `not before idleCancelMs (${elapsedMs} ms)`);
    const late = await readWithConnect(`${server.url}/events?topic=${topic}`, {
      cursor,
      timeoutMs: 30_000,
    });
    assert.deepEqual(late.tokens, answerTokens(late.tokens.length));
    assert.deepEqual(late.end, { status: "cancelled", reason: "unwatched" });
  });

  it("ttlMs: an ended stream stays resumable for ttlMs, then expires, and its topic starts anew", async () => {
    const topic = newTopic("ttl");
    const ttlMs = 1_000;
    const first = await startStream(server.url, topic, { tokens: 5, paceMs: 1, ttlMs });
    const events = `${server.url}/events?topic=${topic}`;
    assertWholeAnswer(
      await readWithConnect(events, { cursor: first.cursor, timeoutMs: 30_000 }),
      5,
      { status: "done" },
      "within ttlMs",
    );
    const again = await startStream(server.url, topic, { tokens: 5, paceMs: 1, ttlMs });
    assert.deepEqual(again, { started: false, cursor: first.cursor }, "ended, within ttlMs");
    await new Promise((resolve) => setTimeout(resolve, ttlMs + 500));
    const later = await startStream(server.url, topic, { tokens: 7, paceMs: 1, ttlMs });
    assert.equal(later.started, true, "expired: a new stream");
    assert.notEqual(later.cursor, first.cursor);
    assertWholeAnswer(
      await readWithConnect(events, { cursor: later.cursor, timeoutMs: 30_000 }),
      7,
      { status: "done" },
      "the new stream",
    );
    assert.equal(modelRequestsOf(model.requests, topic).length, 2);
  });

  it("idleCancelMs: a reader that stays keeps the answer running to done", async () => {
    const topic = newTopic("watched");
    const idleCancelMs = 500;
    const tokens = 400;
    const { cursor } = await startStream(server.url, topic, {
      tokens,
      paceMs: 8, // ≥ 3.2 s: several idleCancelMs windows
      idleCancelMs,
    });
    const result = await readWithConnect(`${server.url}/events?topic=${topic}`, {
      cursor,
      timeoutMs: 60_000,
    });
    assertWholeAnswer(result, tokens, { status: "done" }, "the reader that stayed");
    assert.equal(modelRequestsOf(model.requests, topic)[0].end, "done");
  });

  it("a model error mid-answer ends the stream error: readers get the tokens before it and a safe message, the logger gets the error", async () => {
    const topic = newTopic("error");
    const { cursor } = await startStream(server.url, topic, {
      tokens: 50,
      paceMs: 1,
      errorAfter: 12,
    });
    const result = await readWithConnect(`${server.url}/events?topic=${topic}`, {
      cursor,
      timeoutMs: 30_000,
    });
    assert.deepEqual(result.tokens, answerTokens(12));
    assert.equal(result.end?.status, "error", JSON.stringify(result.end));
    assert.doesNotMatch(
      JSON.stringify(result.end),
      /fake model failed/,
      "the provider's error text stays on the server",
    );
    assert.equal(result.statuses.at(-1), 204);
    await until(
      () => logged.some((l) => (l.error as ModelStreamError)?.code === "model-error"),
      () => `the logged ModelStreamError (${logged.map((l) => l.message).join("; ")})`,
      5_000,
    );
  });

  it("a model connection cut mid-answer ends the stream error, not done", async () => {
    const topic = newTopic("drop");
    const { cursor } = await startStream(server.url, topic, {
      tokens: 50,
      paceMs: 1,
      dropAfter: 7,
    });
    const result = await readWithConnect(`${server.url}/events?topic=${topic}`, {
      cursor,
      timeoutMs: 30_000,
    });
    // A cut connection may lose the bytes in flight: a prefix of what was sent, never more.
    assert.ok(result.tokens.length <= 7, `${result.tokens.length} tokens`);
    assert.deepEqual(result.tokens, answerTokens(result.tokens.length));
    assert.equal(result.end?.status, "error", JSON.stringify(result.end));
  });

  /** The model requests of `topic`, once there is one. */
  async function waitForRequest(topic: string) {
    await until(() => modelRequestsOf(model.requests, topic).length > 0, "the model request");
    return modelRequestsOf(model.requests, topic);
  }
});

/** The last `id:` in an event-stream body. */
function lastIdOf(body: string): string {
  const ids = [...body.matchAll(/^id: ?(.*)$/gm)].map((m) => m[1]);
  return ids.at(-1) ?? "";
}
