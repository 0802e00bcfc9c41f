// Helpers shared by the hub's tests (tests/hub*.test.ts and tests/e2e/hub*.test.ts).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createParser,
  type Hub,
  type SSEEvent,
  type SSEEventMap,
  type SSEMessage,
} from "../mod.ts";
import type {
  Broker,
  BrokerListener,
  StreamAppendOptions,
  StreamBroker,
} from "../src/hub/broker.ts";
import { BrokerError } from "../src/hub/errors.ts";
import { comparePositions } from "../src/hub/position.ts";
import { STREAM_END_EVENT, type StreamEnd } from "../src/hub/stream_end.ts";
import type { StartedStream, StreamOptions, StreamWriter } from "../src/hub/stream_options.ts";

/** Reads `count` events from a reader, failing after `timeoutMs` with what it got so far. */
export async function take(
  reader: ReadableStreamDefaultReader<SSEEvent>,
  count: number,
  timeoutMs = 10_000,
): Promise<SSEEvent[]> {
  const got: SSEEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`got ${got.length} of ${count} events: ${JSON.stringify(got)}`)),
      timeoutMs,
    );
  });
  try {
    while (got.length < count) {
      const result = await Promise.race([reader.read(), timeout]);
      if (result.done) throw new Error(`stream ended after ${got.length} of ${count} events`);
      got.push(result.value);
    }
    return got;
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the reader yields nothing within `ms` (then the pending read is left to cancel). */
export async function staysQuiet(
  reader: ReadableStreamDefaultReader<SSEEvent>,
  ms: number,
): Promise<SSEEvent | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const quiet = new Promise<undefined>((
    resolve,
  ) => (timer = setTimeout(() => resolve(undefined), ms)));
  const result = await Promise.race([reader.read().then((r) => r.value), quiet]);
  clearTimeout(timer);
  return result;
}

/** The data of data-carrying events (skips id-only blocks). */
export function dataOf(events: SSEEvent[]): unknown[] {
  return events.filter((e) => e.data !== undefined).map((e) => e.data);
}

/** An SSE connection read over `fetch`, collecting what a browser's EventSource would dispatch. */
export interface CollectingClient {
  /** Every dispatched message, in order. */
  messages: SSEMessage[];
  /** The spec's last event ID after the latest message (what a reconnect sends). */
  lastEventId: string;
  /** The response status. */
  status: number;
  /** Resolves when the stream ends (by either side). */
  ended: Promise<void>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** Opens `url` (with `Last-Event-ID` if given) and collects its messages until closed. */
export async function openCollecting(url: string, lastEventId?: string): Promise<CollectingClient> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: lastEventId ? { "last-event-id": lastEventId } : {},
    signal: controller.signal,
  });
  const client: CollectingClient = {
    messages: [],
    lastEventId: lastEventId ?? "",
    status: response.status,
    ended: Promise.resolve(),
    async close() {
      controller.abort();
      await Promise.race([client.ended, new Promise((resolve) => setTimeout(resolve, 2_000))]);
    },
  };
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    return client;
  }
  const parser = createParser({
    onEvent(message) {
      client.messages.push(message);
      client.lastEventId = message.lastEventId;
    },
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  client.ended = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        parser.feed(value);
        // Id-only blocks dispatch nothing but move the last event ID (the starting cursor).
        client.lastEventId = parser.lastEventId;
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  return client;
}

/** Resolves when `check()` holds; fails after `timeoutMs` with `what` (generous: shared machine). */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The JSON data of the `message` events a client got (id-only blocks dispatch nothing). */
export function jsonData(client: CollectingClient): unknown[] {
  return client.messages.filter((m) => m.event === "message").map((m) => JSON.parse(m.data));
}

/** A deterministic random source (an LCG) for the property tests: a failure replays exactly. */
export function lcgRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

/**
 * Which of the hub's two delivery paths a property client reads: `hub.subscribe`'s stream of
 * events, or `hub.response`'s event-stream bytes, parsed back as a browser would.
 */
export type DeliveryPath = "subscribe" | "response";

/** A subscriber of the resume properties: its topics, its cursor, and the `n`s seen per topic. */
export interface ResumingClient {
  topics: string[];
  via: DeliveryPath;
  cursor?: string;
  reader?: ReadableStreamDefaultReader<SSEEvent>;
  seen: Map<string, number[]>;
  reconnects: number;
}

/** `count` clients, each on the topics whose index `i` has `(c + i) % 3 !== 0`. */
export function resumingClients(
  topics: string[],
  count: number,
  via: DeliveryPath = "subscribe",
): ResumingClient[] {
  return Array.from({ length: count }, (_, c) => ({
    topics: topics.filter((_, i) => (c + i) % 3 !== 0),
    via,
    seen: new Map<string, number[]>(),
    reconnects: 0,
  }));
}

/** (Re)subscribes `client` from its cursor, as a browser's EventSource would on reconnect. */
export async function resubscribe(hub: Hub, client: ResumingClient): Promise<void> {
  if (client.via === "subscribe") {
    client.reader = (await hub.subscribe({ topics: client.topics, lastEventId: client.cursor }))
      .getReader();
    return;
  }
  const headers: Record<string, string> = {};
  if (client.cursor) headers["last-event-id"] = client.cursor;
  const response = await hub.response(new Request("http://hub.test/events", { headers }), {
    topics: client.topics,
  });
  assert.equal(response.status, 200, `hub.response answered ${response.status}`);
  client.reader = response.body!.pipeThrough(eventsOfBody()).getReader();
}

/**
 * Event-stream bytes back to hub events, as a browser sees them: each dispatched message with the
 * last event id it carries, and an id-only block (the starting cursor) as an event with only an
 * id, so a client that drops before any data still holds its cursor.
 */
function eventsOfBody(): TransformStream<Uint8Array, SSEEvent> {
  const out: SSEEvent[] = [];
  const parser = createParser({
    onEvent: (m: SSEMessage) => out.push({ id: m.lastEventId, data: JSON.parse(m.data) }),
  });
  let lastId = "";
  return new TransformStream({
    transform(chunk, controller) {
      parser.feed(chunk);
      if (out.length === 0 && parser.lastEventId !== lastId) out.push({ id: parser.lastEventId });
      lastId = parser.lastEventId;
      for (const event of out) controller.enqueue(event);
      out.length = 0;
    },
  });
}

/**
 * Drains `client`'s stream, keeping the cursor and each event's `{ topic, n }`, and drops and
 * resumes with probability `dropChance` after each event, until `done()` or the stream ends.
 */
export async function pumpResuming(
  hub: Hub,
  client: ResumingClient,
  options: { done: () => boolean; dropChance: number; random: () => number },
): Promise<void> {
  for (;;) {
    const result = await client.reader!.read();
    if (result.done) return;
    const event = result.value;
    if (event.id) client.cursor = event.id;
    if (event.data !== undefined) {
      const { topic, n } = event.data as { topic: string; n: number };
      const list = client.seen.get(topic) ?? [];
      list.push(n);
      client.seen.set(topic, list);
    }
    if (options.done()) return;
    if (options.random() < options.dropChance) {
      await client.reader!.cancel();
      client.reconnects++;
      await resubscribe(hub, client);
    }
  }
}

/** The next `size` events of `topic`, numbered `{ topic, n }` on from `counters`, which advances. */
export function numberedBatch(
  topic: string,
  size: number,
  counters: Map<string, number>,
): { data: { topic: string; n: number } }[] {
  const events = [];
  for (let k = 0; k < size; k++) {
    const n = counters.get(topic)!;
    counters.set(topic, n + 1);
    events.push({ data: { topic, n } });
  }
  return events;
}

/** How many events `client` received, over all its topics. */
export function receivedCount(client: ResumingClient): number {
  return [...client.seen.values()].reduce((sum, list) => sum + list.length, 0);
}

/** How many events were published on `client`'s topics, by the per-topic `counters`. */
export function expectedCount(client: ResumingClient, counters: Map<string, number>): number {
  return client.topics.reduce((sum, topic) => sum + counters.get(topic)!, 0);
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts a stream and hands back, with what `startStream` resolved, the producer's run (what
 * `waitUntil` was given), to await the end.
 */
export async function startedStream<Events extends SSEEventMap = SSEEventMap>(
  hub: Hub,
  topic: string,
  produce: (out: StreamWriter<Events>) => unknown,
  options: StreamOptions = {},
): Promise<StartedStream & { run: Promise<unknown> }> {
  let run: Promise<unknown> = Promise.resolve();
  const result = await hub.startStream<Events>(topic, produce, {
    ...options,
    waitUntil: (promise) => (run = promise),
  });
  return { ...result, run };
}

/** The `herald.end` data of a list of hub events (the last one, which must be the end). */
export function endOf(events: SSEEvent[]): StreamEnd {
  const last = events[events.length - 1];
  if (last?.event !== STREAM_END_EVENT) {
    throw new Error(`the last event is not ${STREAM_END_EVENT}: ${JSON.stringify(last)}`);
  }
  return last.data as StreamEnd;
}

/** Every event of a subscription until it closes (bounded: fails after `timeoutMs`). */
export async function readToEnd(
  hub: Hub,
  topics: string[],
  lastEventId?: string,
  timeoutMs = 20_000,
): Promise<SSEEvent[]> {
  const reader = (await hub.subscribe({ topics, lastEventId })).getReader();
  const got: SSEEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no end after ${got.length} events: ${JSON.stringify(got)}`)),
      timeoutMs,
    );
  });
  try {
    for (;;) {
      const result = await Promise.race([reader.read(), timeout]);
      if (result.done) return got;
      got.push(result.value);
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
}

/**
 * The contract every {@link StreamBroker} keeps, in real time (short leases), so it runs the same
 * against MemoryBroker and UpstashBroker. `make` returns a broker on a store of its own, or on a
 * prefix of its own; every test uses its own topics.
 */
export function streamBrokerContract(
  label: string,
  make: () => StreamBroker,
  options: { skip?: boolean } = {},
): void {
  let topicCount = 0;
  const topic = () => `contract-${Date.now().toString(36)}-${++topicCount}`;
  const claimOptions = { owner: "hub-a", leaseMs: 300, ttlMs: 60_000 };
  const appendOptions = (seq: number, extra: Partial<StreamAppendOptions> = {}) => ({
    seq,
    leaseMs: 300,
    ttlMs: 60_000,
    ...extra,
  });
  const leaseLost = (error: unknown) => error instanceof BrokerError && error.code === "lease-lost";

  describe(`StreamBroker contract: ${label}`, { skip: options.skip }, () => {
    it("claims once: the first claim gets a fence, later claims the same start and none", async () => {
      const broker = make();
      const t = topic();
      await broker.publish(t, [{ data: "before the stream" }]);
      const head = (await broker.read([{ topic: t, after: "0-0" }], 0)).topics[0].head;
      const claims = await Promise.all(
        Array.from(
          { length: 10 },
          (_, i) => broker.claimStream(t, { ...claimOptions, owner: `h${i}` }),
        ),
      );
      assert.equal(claims.filter((c) => c.fence !== undefined).length, 1, "exactly one producer");
      for (const claim of claims) {
        assert.equal(claim.start, head, "the position before the stream's first event");
        assert.equal(claim.end, undefined);
        assert.equal(claim.epoch, claims[0].epoch);
      }
      const read = await broker.read([{ topic: t, after: head }], 10);
      assert.deepEqual(read.topics[0].stream, { end: null }, "a running stream");
    });

    it("appends as the fence holder, notifies listeners, and refuses a stale fence (lease-lost) storing nothing", async () => {
      const broker = make();
      const t = topic();
      const { fence, start } = await broker.claimStream(t, claimOptions);
      const seen: string[] = [];
      const listener: BrokerListener = {
        topics: [t],
        onEntries: (_topic, entries) => seen.push(...entries.map((e) => e.id)),
        onError: () => {},
      };
      await broker.listen(listener);
      const first = await broker.appendStream(
        t,
        fence!,
        [{ data: 1 }, { data: 2 }],
        appendOptions(1),
      );
      assert.equal(first.ids.length, 2);
      assert.ok(comparePositions(first.ids[0], first.ids[1]) < 0);
      await until(() => seen.length === 2, "the listener to get both entries");
      assert.deepEqual(seen, first.ids);
      await assert.rejects(
        broker.appendStream(t, "not-the-fence", [{ data: "forged" }], appendOptions(2)),
        leaseLost,
      );
      const read = await broker.read([{ topic: t, after: start }], 10);
      assert.deepEqual(read.topics[0].entries.map((e) => e.event.data), [1, 2]);
      broker.unlisten(listener);
    });

    it("applies an append once: a repeated seq answers no ids and stores nothing, even the one that ended the stream", async () => {
      const broker = make();
      const t = topic();
      const { fence, start } = await broker.claimStream(t, claimOptions);
      const once = await broker.appendStream(t, fence!, [{ data: "x" }], appendOptions(1));
      const again = await broker.appendStream(t, fence!, [{ data: "x" }], appendOptions(1));
      assert.equal(once.ids.length, 1);
      assert.deepEqual(again.ids, []);
      // The reply of the end was lost and the producer sends it again: it ended, it is not lost.
      const end = appendOptions(2, { end: { status: "done" } });
      assert.equal((await broker.appendStream(t, fence!, [{ data: "y" }], end)).ids.length, 2);
      assert.deepEqual((await broker.appendStream(t, fence!, [{ data: "y" }], end)).ids, []);
      await assert.rejects(
        broker.appendStream(t, fence!, [{ data: "z" }], appendOptions(3)),
        leaseLost,
      );
      const read = await broker.read([{ topic: t, after: start }], 10);
      assert.deepEqual(read.topics[0].entries.map((e) => e.event.data), ["x", "y", {
        status: "done",
      }]);
    });

    it("ends with herald.end after the events; the end is durable, later appends are refused, a claim reports it", async () => {
      const broker = make();
      const t = topic();
      const { fence, start } = await broker.claimStream(t, claimOptions);
      const { ids } = await broker.appendStream(
        t,
        fence!,
        [{ data: "last" }],
        appendOptions(1, { end: { status: "done" } }),
      );
      assert.equal(ids.length, 2);
      const read = await broker.read([{ topic: t, after: start }], 10);
      assert.deepEqual(read.topics[0].entries.map((e) => e.event), [
        { data: "last" },
        { event: STREAM_END_EVENT, data: { status: "done" } },
      ]);
      assert.deepEqual(read.topics[0].stream, { end: ids[1] });
      await assert.rejects(
        broker.appendStream(t, fence!, [{ data: "late" }], appendOptions(2)),
        leaseLost,
      );
      const claim = await broker.claimStream(t, { ...claimOptions, owner: "hub-b" });
      assert.deepEqual(
        { fence: claim.fence, start: claim.start, end: claim.end },
        { fence: undefined, start, end: { status: "done" } },
      );
    });

    it("ends a stream whose lease expired as lost, once, by whoever notices; the old fence can't write", async () => {
      const broker = make();
      const t = topic();
      const { fence, start } = await broker.claimStream(t, { ...claimOptions, leaseMs: 150 });
      await broker.appendStream(
        t,
        fence!,
        [{ data: "partial" }],
        appendOptions(1, { leaseMs: 150 }),
      );
      // Nothing renews the lease now, as when the producer's process died.
      await sleep(400);
      const ended = await broker.touchPresence({
        owner: "hub-b",
        topics: [t],
        left: [],
        ttlMs: 1000,
      });
      assert.deepEqual(ended, [t]);
      assert.deepEqual(
        await broker.touchPresence({ owner: "hub-c", topics: [t], left: [], ttlMs: 1000 }),
        [],
        "lost is written once",
      );
      await assert.rejects(
        broker.appendStream(t, fence!, [{ data: "stale" }], appendOptions(2)),
        leaseLost,
      );
      const read = await broker.read([{ topic: t, after: start }], 10);
      assert.deepEqual(read.topics[0].entries.map((e) => e.event), [
        { data: "partial" },
        { event: STREAM_END_EVENT, data: { status: "lost" } },
      ]);
      const claim = await broker.claimStream(t, claimOptions);
      assert.equal(claim.fence, undefined);
      assert.deepEqual(claim.end, { status: "lost" });
      assert.equal(await broker.cancelStream(t, "too late"), false);
    });

    it("a claim or a cancel also ends an expired lease as lost", async () => {
      const broker = make();
      const [a, b] = [topic(), topic()];
      await broker.claimStream(a, { ...claimOptions, leaseMs: 100 });
      await broker.claimStream(b, { ...claimOptions, leaseMs: 100 });
      await sleep(300);
      const claim = await broker.claimStream(a, claimOptions);
      assert.deepEqual([claim.fence, claim.end], [undefined, { status: "lost" }]);
      assert.equal(await broker.cancelStream(b, "stop"), false);
      const read = await broker.read([{ topic: b, after: "0-0" }], 10);
      assert.deepEqual(read.topics[0].entries.map((e) => e.event.data), [{ status: "lost" }]);
    });

    it("carries a cancel to the producer: watchers are told, and every later append answers it", async () => {
      const broker = make();
      const t = topic();
      const { fence } = await broker.claimStream(t, claimOptions);
      const heard: string[] = [];
      const stop = new AbortController();
      await broker.watchCancel?.(t, {
        onCancel: (_topic, reason) => heard.push(reason),
        signal: stop.signal,
      });
      assert.equal(await broker.cancelStream(t, "stop button"), true);
      assert.equal(await broker.cancelStream(topic(), "nothing there"), false);
      if (broker.watchCancel) await until(() => heard.length > 0, "the cancel notice");
      assert.deepEqual(heard.slice(0, 1), broker.watchCancel ? ["stop button"] : []);
      const answer = await broker.appendStream(t, fence!, [], appendOptions(1));
      assert.equal(answer.cancel, "stop button");
      stop.abort();
    });

    it("counts hubs with readers (presence), and how long nobody has read", async () => {
      const broker = make();
      const t = topic();
      const { fence } = await broker.claimStream(t, { ...claimOptions, leaseMs: 10_000 });
      await broker.touchPresence({ owner: "reader-1", topics: [t], left: [], ttlMs: 5_000 });
      await broker.touchPresence({ owner: "reader-2", topics: [t], left: [], ttlMs: 5_000 });
      await broker.touchPresence({ owner: "reader-2", topics: [t], left: [], ttlMs: 5_000 });
      let answer = await broker.appendStream(t, fence!, [], appendOptions(1, { leaseMs: 10_000 }));
      assert.equal(answer.readers, 2);
      assert.equal(answer.unwatchedMs, 0);
      await broker.touchPresence({ owner: "reader-1", topics: [], left: [t], ttlMs: 5_000 });
      await broker.touchPresence({ owner: "reader-2", topics: [], left: [t], ttlMs: 5_000 });
      await sleep(200);
      answer = await broker.appendStream(t, fence!, [], appendOptions(2, { leaseMs: 10_000 }));
      assert.equal(answer.readers, 0);
      assert.ok(answer.unwatchedMs >= 150 && answer.unwatchedMs < 30_000, `${answer.unwatchedMs}`);
      // A report that is not renewed lapses at its TTL.
      await broker.touchPresence({ owner: "reader-3", topics: [t], left: [], ttlMs: 100 });
      answer = await broker.appendStream(t, fence!, [], appendOptions(3, { leaseMs: 10_000 }));
      assert.equal(answer.readers, 1);
      await sleep(300);
      answer = await broker.appendStream(t, fence!, [], appendOptions(4, { leaseMs: 10_000 }));
      assert.equal(answer.readers, 0);
      assert.ok(answer.unwatchedMs >= 100, `${answer.unwatchedMs}`);
    });

    it("expires an ended stream's history and state ttlMs after its end", async () => {
      const broker = make();
      const t = topic();
      const { fence, start } = await broker.claimStream(t, { ...claimOptions, ttlMs: 200 });
      await broker.appendStream(
        t,
        fence!,
        [{ data: "x" }],
        appendOptions(1, { ttlMs: 200, end: { status: "done" } }),
      );
      await sleep(500);
      const read = await broker.read([{ topic: t, after: start }], 10);
      assert.deepEqual(read.topics[0].entries, []);
      assert.equal(read.topics[0].stream, undefined);
      const claim = await broker.claimStream(t, claimOptions);
      assert.ok(claim.fence, "a new stream may start on the topic");
    });
  });
}

/** A broker listener that records what it is given: each entry's data, and each error. */
export interface RecordingListener extends BrokerListener {
  data: unknown[];
  errors: Error[];
  /** How many times `onEntries` was called. */
  calls: number;
}

/** A {@link RecordingListener}; `then` runs inside each `onEntries` call, after the recording. */
export function recordingListener(
  topics: string[],
  then?: (listener: RecordingListener) => void,
): RecordingListener {
  const listener: RecordingListener = {
    topics,
    data: [],
    errors: [],
    calls: 0,
    onEntries(_topic, entries) {
      this.calls++;
      for (const entry of entries) this.data.push(entry.event.data);
      then?.(this);
    },
    onError(error) {
      this.errors.push(error);
    },
  };
  return listener;
}

/**
 * The live-listener contract every {@link Broker} keeps (`listen`, `unlisten`), run the same
 * against MemoryBroker and UpstashBroker in each of its feed modes. Deliveries may be
 * asynchronous: a listener that must get nothing is checked after a witness listener of the same
 * topic got the entries published after it.
 */
export function brokerListenerContract(label: string, make: () => Broker): void {
  let topicCount = 0;
  const topic = () => `listener-${Date.now().toString(36)}-${++topicCount}`;

  describe(`Broker listener contract: ${label}`, () => {
    it("after unlisten, a publish reaches no listener; unlisten again, or of a stranger, is no error", async () => {
      const broker = make();
      const t = topic();
      const gone = recordingListener([t]);
      const witness = recordingListener([t]);
      await broker.listen(gone);
      await broker.listen(witness);
      await broker.publish(t, [{ data: 1 }]);
      await until(() => gone.data.length === 1 && witness.data.length === 1, "both to get 1");
      broker.unlisten(gone);
      broker.unlisten(gone);
      broker.unlisten(recordingListener([t]));
      await broker.publish(t, [{ data: 2 }]);
      await until(() => witness.data.length === 2, "the witness to get 2");
      assert.deepEqual(gone.data, [1]);
      assert.deepEqual(gone.errors, []);
      broker.unlisten(witness);
    });

    it("unlisten while listen is pending: the call settles and the listener is never called", async () => {
      const broker = make();
      const t = topic();
      const early = recordingListener([t]);
      const pending = broker.listen(early);
      broker.unlisten(early);
      // It may resolve, or reject if the feed stopped for want of listeners: either way, promptly.
      await pending.catch(() => {});
      const witness = recordingListener([t]);
      await broker.listen(witness);
      await broker.publish(t, [{ data: "after" }]);
      await until(() => witness.data.length === 1, "the witness to get the entry");
      assert.deepEqual([early.calls, early.errors.length], [0, 0]);
      broker.unlisten(witness);
    });

    it("a listener that unlistens itself from onEntries does not keep the others from the entries", async () => {
      const broker = make();
      const t = topic();
      const leaving = recordingListener([t], (self) => broker.unlisten(self));
      const others = [recordingListener([t]), recordingListener([t])];
      await broker.listen(leaving);
      for (const other of others) await broker.listen(other);
      await broker.publish(t, [{ data: 1 }]);
      await broker.publish(t, [{ data: 2 }]);
      await until(() => others.every((o) => o.data.length === 2), "the others to get 1 and 2");
      assert.deepEqual(others.map((o) => o.data), [[1, 2], [1, 2]]);
      assert.deepEqual(leaving.data, [1]);
      for (const other of others) broker.unlisten(other);
    });

    it("a listener whose onEntries throws is removed from every topic and told once (upstream-lost)", async () => {
      const broker = make();
      const [t, u] = [topic(), topic()];
      const thrower = recordingListener([t, u], () => {
        throw new Error("a broken listener (test)");
      });
      const witnessT = recordingListener([t]);
      const witnessU = recordingListener([u]);
      await broker.listen(thrower);
      await broker.listen(witnessT);
      await broker.listen(witnessU);
      await broker.publish(t, [{ data: 1 }]);
      await until(() => witnessT.data.length === 1 && thrower.errors.length === 1, "the error");
      await broker.publish(u, [{ data: 2 }]);
      await broker.publish(t, [{ data: 3 }]);
      await until(() => witnessU.data.length === 1 && witnessT.data.length === 2, "the witnesses");
      assert.equal(thrower.calls, 1);
      assert.equal(thrower.errors.length, 1);
      assert.ok(thrower.errors[0] instanceof BrokerError);
      assert.equal((thrower.errors[0] as BrokerError).code, "upstream-lost");
      broker.unlisten(thrower);
      broker.unlisten(witnessT);
      broker.unlisten(witnessU);
    });
  });
}
