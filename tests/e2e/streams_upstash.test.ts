// Resumable streams on the UpstashBroker across processes: a Deno and a Bun stream server on one
// Upstash (the REST test server in front of a private redis-server), a fake model server, and
// readers (Herald's connect() and the eventsource package) cut at random by proxies. Producers
// are killed, frozen and cancelled from the other process; the REST server counts what each
// process asks of Upstash. Runs under the Deno host only (it starts both runtimes).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { type ChaosProxy, startChaosProxy } from "../support/chaos_proxy.ts";
import {
  answerTokens,
  type FakeModelServer,
  startFakeModelServer,
} from "../support/fake_model_server.ts";
import { seededRandom } from "../support/random.ts";
import { runtime } from "../support/runtime.ts";
import {
  assertWholeAnswer,
  cancelStream,
  modelRequestsOf,
  startStream,
  summarize,
  until,
} from "../support/stream_helpers.ts";
import {
  freezeStreamProcess,
  killStreamProcess,
  startStreamProcess,
  stopStreamProcess,
  type StreamProcess,
} from "../support/stream_processes.ts";
import {
  type ReaderResult,
  readWithConnect,
  readWithEventSource,
} from "../support/stream_readers.ts";
import { startUpstashRestServer, type UpstashRestServer } from "../support/upstash_rest_server.ts";
import type { ProducerRecord } from "./workers/stream_app.ts";

const seed = Number(process.env.STREAM_SEED ?? Date.now() % 1_000_000);

describe(`resumable streams on UpstashBroker, Deno and Bun processes (seed ${seed})`, {
  skip: runtime !== "deno",
}, () => {
  let upstash: UpstashRestServer;
  let model: FakeModelServer;
  let onDeno: StreamProcess | undefined;
  let onBun: StreamProcess | undefined;
  const extra: StreamProcess[] = [];
  const proxies: ChaosProxy[] = [];
  /** Upstash requests per client token (each process has its own token): all, and those that
   * run a script (the stream's claim and appends; not the live feed's SUBSCRIBE and pings). */
  const requestsByToken = new Map<string, { all: number; scripts: number }>();
  let topicCount = 0;
  const newTopic = (name: string) => `up.${name}.${++topicCount}`;
  const tokenOf = new Map<StreamProcess, string>();

  function envFor(token: string): Record<string, string> {
    return {
      STREAM_UPSTASH_URL: upstash.url,
      STREAM_UPSTASH_TOKEN: token,
      STREAM_PREFIX: "st",
      STREAM_MODEL_URL: model.url,
      STREAM_PING_MS: "500",
      STREAM_PRESENCE_MS: "500",
    };
  }

  async function startProcess(kind: "deno" | "bun", env: Record<string, string> = {}) {
    const token = `${kind}${crypto.randomUUID().replaceAll("-", "")}`;
    upstash.addToken(token);
    const started = await startStreamProcess(kind, { ...envFor(token), ...env });
    tokenOf.set(started, token);
    return started;
  }

  /** A snapshot of what `server` asked of Upstash so far. */
  const requestsOf = (server: StreamProcess) => ({
    all: 0,
    scripts: 0,
    ...requestsByToken.get(tokenOf.get(server)!),
  });

  async function producersOf(server: StreamProcess): Promise<ProducerRecord[]> {
    // Bounded: a frozen process never answers.
    const response = await fetch(`${server.url}/producers`, { signal: AbortSignal.timeout(5_000) });
    return await response.json();
  }

  /** The failure message's tail: what each process printed. */
  const outputs = () =>
    [onDeno, onBun, ...extra].map((p) => p && `--- ${p.runtime} ---\n${p.output().slice(-3000)}`)
      .join("\n");

  before(async () => {
    upstash = await startUpstashRestServer({
      onRequest(request) {
        let counts = requestsByToken.get(request.token);
        if (!counts) requestsByToken.set(request.token, counts = { all: 0, scripts: 0 });
        counts.all++;
        if (request.commands.some((c) => /^EVAL/i.test(c[0]))) counts.scripts++;
      },
    });
    model = await startFakeModelServer();
    [onDeno, onBun] = await Promise.all([startProcess("deno"), startProcess("bun")]);
    for (const target of [onDeno, onBun]) {
      proxies.push(
        await startChaosProxy({
          targetPort: Number(new URL(target.url).port),
          random: seededRandom(seed + proxies.length),
          cutAfterBytes: { min: 120, max: 2_500 },
        }),
      );
    }
  });

  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await Promise.all([onDeno, onBun, ...extra].map(stopStreamProcess));
    await model?.stop();
    await upstash?.stop();
  });

  it("exactly once under chaos: readers on both processes, cut mid-chunk and dropped after k events, through upstream drops and 5xx, each get every token once, in order, then herald.end done, then 204", async () => {
    const topic = newTopic("chaos");
    const tokens = 400;
    const { started, cursor } = await startStream(onDeno!.url, topic, {
      tokens,
      paceMs: 8,
      coalesceMs: 20,
    });
    assert.equal(started, true);
    const [denoProxy, bunProxy] = proxies;
    const url = (base: string) => `${base}/events?topic=${topic}`;
    const timeoutMs = 120_000;
    const readers: Promise<ReaderResult>[] = [
      readWithConnect(url(denoProxy.url), { cursor, timeoutMs }),
      readWithConnect(url(bunProxy.url), { cursor, timeoutMs }),
      readWithConnect(url(onBun!.url), {
        cursor,
        timeoutMs,
        dropAfterEvents: { random: seededRandom(seed + 7), max: 30, maxDrops: 30 },
      }),
      readWithConnect(url(onDeno!.url), {
        cursor,
        timeoutMs,
        dropAfterEvents: { random: seededRandom(seed + 8), max: 30, maxDrops: 30 },
      }),
      readWithEventSource(url(bunProxy.url), { cursor, timeoutMs }),
      readWithEventSource(url(denoProxy.url), { cursor, timeoutMs }),
    ];
    // Upstream drops while the answer streams: both processes' subscribe streams die (cut, then
    // silent), and each must notice and catch up by itself.
    const [request] = await waitForModelRequest(topic);
    let drops = 0;
    for (const [at, mode] of [[60, "abort"], [160, "stall"], [260, "close"]] as const) {
      await until(() => request.tokensSent >= at || request.closedMs !== undefined, `${at} tokens`);
      drops += upstash.dropSubscriptions({ mode });
      // And the next few requests of anyone (appends, reads, pings) fail with a 503.
      if (mode === "stall") upstash.failNext(3, 503);
    }
    const results = await Promise.all(readers);
    results.forEach((result, i) =>
      assertWholeAnswer(result, tokens, { status: "done" }, `reader #${i}\n${outputs()}`)
    );
    assert.ok(drops >= 2, `upstream subscriptions were dropped (${drops})`);
    assert.ok(proxies.reduce((sum, p) => sum + p.cuts, 0) >= 8, "the proxies cut readers");
    assert.equal(modelRequestsOf(model.requests, topic).length, 1, "one model request");
  });

  it("one producer: 20 concurrent startStream calls across the two processes make exactly one model request", async () => {
    const topic = newTopic("once");
    const calls = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => startStream((i % 2 ? onBun! : onDeno!).url, topic, { tokens: 60, paceMs: 5 }),
      ),
    );
    assert.equal(calls.filter((c) => c.started).length, 1, JSON.stringify(calls));
    assert.equal(new Set(calls.map((c) => c.cursor)).size, 1, "one cursor for every call");
    const result = await readWithConnect(`${onBun!.url}/events?topic=${topic}`, {
      cursor: calls[0].cursor,
      timeoutMs: 60_000,
    });
    assertWholeAnswer(result, 60, { status: "done" }, `reader\n${outputs()}`);
    assert.deepEqual(
      await startStream(onDeno!.url, topic, { tokens: 60 }),
      { started: false, cursor: calls[0].cursor },
      "a call after the end runs nothing",
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(modelRequestsOf(model.requests, topic).length, 1, "exactly one model request");
  });

  it("producer death: the producing process is SIGKILLed mid-answer; readers on the other process get herald.end lost within leaseMs + 2 s", async () => {
    const victim = await startProcess("deno");
    extra.push(victim);
    const topic = newTopic("killed");
    const leaseMs = 2_000;
    const { cursor } = await startStream(victim.url, topic, {
      tokens: 100_000,
      paceMs: 5,
      coalesceMs: 20,
      leaseMs,
    });
    const url = `${onBun!.url}/events?topic=${topic}`;
    let killedMs = 0;
    const readers = [
      readWithConnect(url, { cursor, timeoutMs: 60_000 }),
      readWithEventSource(url, { cursor, timeoutMs: 60_000 }),
    ];
    const [request] = await waitForModelRequest(topic);
    await until(() => request.tokensSent >= 50, "50 tokens");
    await killStreamProcess(victim);
    killedMs = Date.now();
    for (const result of await Promise.all(readers)) {
      const context = `${JSON.stringify(result.end)} ${summarize(result.statuses)}\n${outputs()}`;
      assert.equal(result.end?.status, "lost", context);
      assert.ok(
        result.endMs! - killedMs <= leaseMs + 2_000,
        `lost arrived ${result.endMs! - killedMs} ms after the kill (${context})`,
      );
      assert.ok(result.tokens.length >= 1, context);
      assert.deepEqual(result.tokens, answerTokens(result.tokens.length), "in order, once");
      assert.deepEqual(result.afterEnd, []);
      assert.equal(result.statuses.at(-1), 204, context);
    }
  });

  it("producer death with nobody watching: a reader who comes after the lease expired gets the tokens, then herald.end lost, within 2 s", async () => {
    const victim = await startProcess("bun");
    extra.push(victim);
    const topic = newTopic("killed-unwatched");
    const leaseMs = 1_500;
    const { cursor } = await startStream(victim.url, topic, {
      tokens: 100_000,
      paceMs: 5,
      coalesceMs: 20,
      leaseMs,
    });
    const [request] = await waitForModelRequest(topic);
    await until(() => request.tokensSent >= 40, "40 tokens");
    await killStreamProcess(victim);
    await new Promise((resolve) => setTimeout(resolve, leaseMs + 500));
    const arrivedMs = Date.now();
    const result = await readWithConnect(`${onDeno!.url}/events?topic=${topic}`, {
      cursor,
      timeoutMs: 60_000,
    });
    const context = `${JSON.stringify(result.end)} ${summarize(result.statuses)}\n${outputs()}`;
    assert.equal(result.end?.status, "lost", context);
    assert.ok(result.endMs! - arrivedMs <= 2_000, `lost ${result.endMs! - arrivedMs} ms after`);
    assert.ok(result.tokens.length >= 1, context);
    assert.deepEqual(result.tokens, answerTokens(result.tokens.length));
    assert.equal(result.statuses.at(-1), 204, context);
    // The stream has ended: starting it again runs nothing and answers the same cursor.
    assert.deepEqual(await startStream(onBun!.url, topic, { tokens: 5 }), {
      started: false,
      cursor,
    });
  });

  it("a stale producer that comes back cannot write: frozen past its lease it is ended lost; thawed, its writes are refused, its signal aborts, and readers see nothing after herald.end", async () => {
    const stale = await startProcess("bun");
    extra.push(stale);
    const topic = newTopic("stale");
    const leaseMs = 1_500;
    const { cursor } = await startStream(stale.url, topic, {
      tokens: 100_000,
      paceMs: 5,
      coalesceMs: 20,
      leaseMs,
    });
    const url = `${onDeno!.url}/events?topic=${topic}`;
    const reader = readWithConnect(url, { cursor, timeoutMs: 60_000 });
    const [request] = await waitForModelRequest(topic);
    await until(() => request.tokensSent >= 40, "40 tokens");
    freezeStreamProcess(stale, true);
    let result: ReaderResult;
    try {
      result = await reader;
    } finally {
      freezeStreamProcess(stale, false);
    }
    assert.equal(result.end?.status, "lost", `${JSON.stringify(result.end)}\n${outputs()}`);
    // Thawed: it reads the tokens buffered meanwhile and tries to write them.
    await until(
      async () => {
        const [record] = await producersOf(stale);
        return record?.outcome !== "running";
      },
      "the stale producer to stop",
      20_000,
    );
    const [record] = await producersOf(stale);
    assert.equal(record.aborted, true, JSON.stringify(record));
    assert.match(record.abortReason ?? "", /lease/i, JSON.stringify(record));
    await until(
      () => request.closedMs !== undefined,
      "the stale producer's model request to close",
    );
    // The stream's log: the tokens up to the freeze, herald.end lost, and nothing after it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const replay = await readWithConnect(url, { cursor, timeoutMs: 30_000 });
    assert.deepEqual(replay.tokens, result.tokens, "the same tokens as the live reader");
    assert.deepEqual(replay.end, { status: "lost" });
    assert.deepEqual(replay.afterEnd, []);
    assert.equal(replay.statuses.at(-1), 204);
  });

  it("cancelStream from the other process closes the model server's connection within 1 s; readers get herald.end cancelled with the reason", async () => {
    const topic = newTopic("cancel");
    const { cursor } = await startStream(onDeno!.url, topic, { tokens: 100_000, paceMs: 5 });
    const reader = readWithConnect(`${onDeno!.url}/events?topic=${topic}`, {
      cursor,
      timeoutMs: 60_000,
    });
    const [request] = await waitForModelRequest(topic);
    await until(() => request.tokensSent >= 30, "30 tokens");
    const cancelledMs = Date.now();
    await cancelStream(onBun!.url, topic, "stop-button");
    await until(() => request.closedMs !== undefined, "the model's connection to close", 10_000);
    assert.ok(
      request.closedMs! - cancelledMs <= 1_000,
      `closed ${request.closedMs! - cancelledMs} ms after cancelStream\n${outputs()}`,
    );
    const result = await reader;
    assert.deepEqual(result.end, { status: "cancelled", reason: "stop-button" });
    assert.deepEqual(result.tokens, answerTokens(result.tokens.length));
    assert.equal(result.statuses.at(-1), 204);
  });

  it("idleCancelMs across processes: when every reader has left, the model request is closed within idleCancelMs + 2 s; a reader on the other process keeps another running to done", async () => {
    const idleCancelMs = 1_500;
    const left = newTopic("idle");
    const kept = newTopic("kept");
    const startedLeft = await startStream(onDeno!.url, left, {
      tokens: 100_000,
      paceMs: 5,
      idleCancelMs,
    });
    const startedKept = await startStream(onDeno!.url, kept, {
      tokens: 500,
      paceMs: 10, // ≥ 5 s: several idleCancelMs windows
      idleCancelMs,
    });
    const leave = new AbortController();
    const leaving = [
      readWithConnect(`${onBun!.url}/events?topic=${left}`, {
        cursor: startedLeft.cursor,
        timeoutMs: 60_000,
        signal: leave.signal,
      }),
      readWithEventSource(`${onDeno!.url}/events?topic=${left}`, {
        cursor: startedLeft.cursor,
        timeoutMs: 60_000,
        signal: leave.signal,
      }),
    ];
    const staying = readWithConnect(`${onBun!.url}/events?topic=${kept}`, {
      cursor: startedKept.cursor,
      timeoutMs: 90_000,
    });
    const [request] = await waitForModelRequest(left);
    await until(() => request.tokensSent >= 40, "40 tokens");
    leave.abort();
    const leftMs = Date.now();
    await Promise.all(leaving);
    await until(
      () => request.closedMs !== undefined,
      "the unwatched model request to close",
      idleCancelMs + 15_000,
    );
    assert.ok(
      request.closedMs! - leftMs <= idleCancelMs + 2_000,
      `closed ${request.closedMs! - leftMs} ms after the last reader left\n${outputs()}`,
    );
    const back = await readWithConnect(`${onBun!.url}/events?topic=${left}`, {
      cursor: startedLeft.cursor,
      timeoutMs: 30_000,
    });
    assert.deepEqual(back.end, { status: "cancelled", reason: "unwatched" });
    assertWholeAnswer(
      await staying,
      500,
      { status: "done" },
      `the reader that stayed\n${outputs()}`,
    );
  });

  it("a claim whose reply is lost after Redis applied it (the client retries) still starts the stream: started, one producer, the whole answer", async () => {
    const lossy = await lossyUpstash();
    const producer = await startProcess("deno", { STREAM_UPSTASH_URL: lossy.url });
    extra.push(producer);
    const topic = newTopic("claim-reply-lost");
    // The first script a fresh process runs for startStream is its claim.
    lossy.loseReplies(/"eval"/i, 1);
    const started = await startStream(producer.url, topic, { tokens: 50, paceMs: 2 });
    assert.equal(lossy.lostReplies, 1, "the claim's reply was lost");
    assert.equal(started.started, true, `the only call claimed the stream, so it produces`);
    const result = await readWithConnect(`${onBun!.url}/events?topic=${topic}`, {
      cursor: started.cursor,
      timeoutMs: 60_000,
    });
    assertWholeAnswer(result, 50, { status: "done" }, `reader\n${outputs()}`);
    assert.equal(modelRequestsOf(model.requests, topic).length, 1);
  });

  it("an end whose reply is lost after Redis applied it: the stream ends done and its producer is not told it lost its lease", async () => {
    const lossy = await lossyUpstash();
    const producer = await startProcess("bun", { STREAM_UPSTASH_URL: lossy.url });
    extra.push(producer);
    const topic = newTopic("end-reply-lost");
    // The append that ends the stream carries its end's data, as JSON inside the JSON body.
    lossy.loseReplies(/\\"status\\":\\"done\\"/, 1);
    const { cursor } = await startStream(producer.url, topic, { tokens: 30, paceMs: 2 });
    const result = await readWithConnect(`${onDeno!.url}/events?topic=${topic}`, {
      cursor,
      timeoutMs: 60_000,
    });
    assertWholeAnswer(result, 30, { status: "done" }, `reader\n${outputs()}`);
    assert.equal(lossy.lostReplies, 1, "the end's reply was lost");
    await until(async () => {
      const [record] = await producersOf(producer);
      return record?.outcome !== "running";
    }, "the producer to return");
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [record] = await producersOf(producer);
    assert.equal(record.outcome, "returned", JSON.stringify(record));
    assert.equal(
      record.aborted,
      false,
      `a producer whose end was written is not aborted: ${JSON.stringify(record)}\n` +
        producer.output().slice(-2000),
    );
    assert.doesNotMatch(producer.output(), /lost its lease/);
  });

  it("exactly once when a third of the producer's script replies are lost after Redis applied them (the client retries each)", async () => {
    const lossy = await lossyUpstash();
    const producer = await startProcess("deno", { STREAM_UPSTASH_URL: lossy.url });
    extra.push(producer);
    const topic = newTopic("replies-lost");
    lossy.loseReplies(/"eval"/i, 40, 0.33);
    const tokens = 300;
    const { started, cursor } = await startStream(producer.url, topic, {
      tokens,
      paceMs: 5,
      coalesceMs: 20,
    });
    assert.equal(started, true);
    const url = `${onBun!.url}/events?topic=${topic}`;
    const results = await Promise.all([
      readWithConnect(url, { cursor, timeoutMs: 90_000 }),
      readWithEventSource(url, { cursor, timeoutMs: 90_000 }),
    ]);
    results.forEach((result, i) =>
      assertWholeAnswer(result, tokens, { status: "done" }, `reader #${i}\n${outputs()}`)
    );
    assert.ok(lossy.lostReplies >= 10, `replies were lost (${lossy.lostReplies})`);
    assert.equal(modelRequestsOf(model.requests, topic).length, 1);
  });

  it("readers cost no Upstash requests per reader: 40 readers on a process cost it what 1 reader does per second, while the stream runs", async () => {
    /** The reader process's requests per second over a window in the middle of a stream. */
    async function readerRate(readers: number): Promise<number> {
      const topic = newTopic(`fanout-${readers}`);
      const { cursor } = await startStream(onDeno!.url, topic, { tokens: 100_000, paceMs: 5 });
      const stop = new AbortController();
      const reading = Array.from(
        { length: readers },
        () =>
          readWithConnect(`${onBun!.url}/events?topic=${topic}`, {
            cursor,
            timeoutMs: 60_000,
            signal: stop.signal,
          }),
      );
      const [request] = await waitForModelRequest(topic);
      await until(() => request.tokensSent >= 100, "100 tokens");
      // Every reader connected and caught up (their opening reads are behind us).
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const before = requestsOf(onBun!).all;
      const startedMs = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const rate = ((requestsOf(onBun!).all - before) * 1000) / (Date.now() - startedMs);
      stop.abort();
      await Promise.all(reading);
      await cancelStream(onDeno!.url, topic, "done-measuring");
      return rate;
    }
    const one = await readerRate(1);
    const forty = await readerRate(40);
    console.log(
      `reader process: ${one.toFixed(1)} requests/s with 1 reader, ${forty.toFixed(1)} with 40`,
    );
    // Presence (every 500 ms) and the feed's ping (every 500 ms): ~4/s whatever the readers.
    assert.ok(
      forty <= one + 3,
      `40 readers: ${forty.toFixed(1)}/s vs 1 reader: ${one.toFixed(1)}/s`,
    );
    assert.ok(forty <= 10, `${forty.toFixed(1)} requests/s`);
  });

  it("cost: a 2,000-token answer produced over 4 s with coalesceMs 50 costs at most ~100 Upstash requests for its writes, not 2,000", async () => {
    const topic = newTopic("cost");
    const tokens = 2_000;
    const before = requestsOf(onBun!);
    const { cursor } = await startStream(onBun!.url, topic, {
      tokens,
      paceMs: 2,
      coalesceMs: 50,
    });
    // The reader is on the other process: the producer's process only produces.
    const result = await readWithConnect(`${onDeno!.url}/events?topic=${topic}`, {
      cursor,
      timeoutMs: 90_000,
    });
    assertWholeAnswer(result, tokens, { status: "done" }, `reader\n${outputs()}`);
    const [request] = modelRequestsOf(model.requests, topic);
    const producedMs = request.closedMs! - request.startedMs;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = requestsOf(onBun!);
    const writes = after.scripts - before.scripts;
    const all = after.all - before.all;
    console.log(
      `cost: ${tokens} tokens over ${producedMs} ms with coalesceMs 50: ${writes} Upstash ` +
        `requests for the stream (claim, appends, end), ${all} in all by the producer's process`,
    );
    assert.ok(producedMs >= 4_000, `the answer took ${producedMs} ms`);
    // One append per 50 ms window: ~80 over 4 s, plus the claim and the end. A machine too loaded
    // to relay in time stretches the answer, and the bound with it (still one per window).
    const bound = Math.max(110, Math.ceil(producedMs / 50) + 10);
    assert.ok(writes >= 2, `the REST server counted the producer's requests (${writes})`);
    assert.ok(writes <= bound, `${writes} requests for ${tokens} tokens (bound ${bound})`);
  });

  /** A proxy in front of the REST server that can lose replies (see chaos_proxy.ts). */
  async function lossyUpstash(): Promise<ChaosProxy> {
    const proxy = await startChaosProxy({
      targetPort: Number(new URL(upstash.url).port),
      random: seededRandom(seed),
      cutAfterBytes: { min: 0, max: 0 },
      maxCuts: 0,
    });
    proxies.push(proxy);
    return proxy;
  }

  async function waitForModelRequest(topic: string) {
    await until(() => modelRequestsOf(model.requests, topic).length > 0, "the model request");
    return modelRequestsOf(model.requests, topic);
  }
});
