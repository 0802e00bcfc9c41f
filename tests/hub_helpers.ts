// Helpers shared by the hub's tests (tests/hub*.test.ts and tests/e2e/hub*.test.ts).
import { createParser, type Hub, type SSEEvent, type SSEMessage } from "../mod.ts";

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
  check: () => boolean,
  what: string | (() => string),
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
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

/** A subscriber of the resume properties: its topics, its cursor, and the `n`s seen per topic. */
export interface ResumingClient {
  topics: string[];
  cursor?: string;
  reader?: ReadableStreamDefaultReader<SSEEvent>;
  seen: Map<string, number[]>;
  reconnects: number;
}

/** `count` clients, each on the topics whose index `i` has `(c + i) % 3 !== 0`. */
export function resumingClients(topics: string[], count: number): ResumingClient[] {
  return Array.from({ length: count }, (_, c) => ({
    topics: topics.filter((_, i) => (c + i) % 3 !== 0),
    seen: new Map<string, number[]>(),
    reconnects: 0,
  }));
}

/** (Re)subscribes `client` from its cursor, as a browser's EventSource would on reconnect. */
export async function resubscribe(hub: Hub, client: ResumingClient): Promise<void> {
  client.reader = (await hub.subscribe({ topics: client.topics, lastEventId: client.cursor }))
    .getReader();
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

/** How many events `client` received, over all its topics. */
export function receivedCount(client: ResumingClient): number {
  return [...client.seen.values()].reduce((sum, list) => sum + list.length, 0);
}

/** How many events were published on `client`'s topics, by the per-topic `counters`. */
export function expectedCount(client: ResumingClient, counters: Map<string, number>): number {
  return client.topics.reduce((sum, topic) => sum + counters.get(topic)!, 0);
}
