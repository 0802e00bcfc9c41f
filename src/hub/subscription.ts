// One subscriber's stream: live first, then history strictly after the cursor, then live with
// the overlap dropped by position. Pull-based on purpose: a publisher only appends to this
// subscriber's queue and resolves a promise; the bytes move in the subscriber's own `pull`, so
// on Workers every write happens in the request that owns the stream (FIELD-NOTES).
import type { SSEEvent } from "../protocol/types.ts";
import type { Broker, BrokerEntry, BrokerRead, TopicRead } from "./broker.ts";
import { encodeCursor, encodeCursorPosition } from "./cursor.ts";
import type { CursorSigner } from "./cursor_signing.ts";
import { BrokerError, HubCursorError } from "./errors.ts";
import { HISTORY_LOST_EVENT, type HistoryLost } from "./history_lost.ts";
import { comparePositions, ZERO_POSITION } from "./position.ts";

/** What the hub resolved before the stream exists (so cursor errors become a 400). */
export interface SubscriptionPlan {
  broker: Broker;
  topics: string[];
  tag: string;
  /** The cursor's epoch and positions, or `undefined` for a fresh subscription (start now). */
  cursor: { epoch: string; positions: string[] } | undefined;
  replayPageSize: number;
  maxQueuedEvents: number;
  signer: CursorSigner | undefined;
  signal: AbortSignal | undefined;
}

interface Pending {
  topicIndex: number;
  entries: BrokerEntry[];
}

/**
 * Opens the live feed, reads the broker's state and the first page of history, checks the cursor
 * against it, and returns the subscriber's stream. Throws {@link HubCursorError} for a cursor that
 * points past a topic's newest event.
 */
export async function openSubscription(plan: SubscriptionPlan): Promise<ReadableStream<SSEEvent>> {
  const { broker, topics, tag, signer } = plan;
  const stop = new AbortController();
  const indexOf = new Map(topics.map((topic, i) => [topic, i]));

  // Live first: everything published from here on lands in `live`, buffered until replay ends.
  const live: Pending[] = [];
  let liveCount = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (error: Error) => {
    failure ??= error;
    stop.abort();
    signal();
  };
  const onAbort = () => {
    stop.abort();
    signal();
  };
  plan.signal?.addEventListener("abort", onAbort, { once: true });

  try {
    await broker.listen({
      topics,
      signal: stop.signal,
      onEntries(topic, entries) {
        const topicIndex = indexOf.get(topic);
        if (topicIndex === undefined || failure) return;
        live.push({ topicIndex, entries });
        liveCount += entries.length;
        if (liveCount > plan.maxQueuedEvents) {
          live.length = 0;
          fail(
            new BrokerError(
              "slow-subscriber",
              `This subscriber fell more than ${plan.maxQueuedEvents} events behind and was ` +
                "disconnected; the client resumes from its cursor.",
            ),
          );
          return;
        }
        signal();
      },
      onError: fail,
    });
  } catch (error) {
    stop.abort();
    plan.signal?.removeEventListener("abort", onAbort);
    throw error;
  }

  // The replay state: what is still to be read per topic, and what has been read, not yet sent.
  const out: SSEEvent[] = [];
  let epoch: string;
  let positions: string[];
  let first: BrokerRead;
  const more: boolean[] = topics.map(() => false);
  const pages: BrokerEntry[][] = topics.map(() => []);
  try {
    const after = plan.cursor?.positions ?? topics.map(() => ZERO_POSITION);
    first = await broker.read(
      topics.map((topic, i) => ({ topic, after: after[i] })),
      plan.cursor ? plan.replayPageSize : 0,
    );
    epoch = first.epoch;
    if (!plan.cursor) {
      // A fresh subscriber starts at the heads: nothing before now is replayed.
      positions = first.topics.map((t) => t.head);
    } else if (plan.cursor.epoch !== first.epoch) {
      // The broker was reset since the cursor was made: every topic starts over, and says so.
      positions = topics.map(() => ZERO_POSITION);
      first = await broker.read(
        topics.map((topic) => ({ topic, after: ZERO_POSITION })),
        plan.replayPageSize,
      );
      epoch = first.epoch;
    } else {
      positions = [...plan.cursor.positions];
      first.topics.forEach((t, i) => {
        if (comparePositions(positions[i], t.head) > 0) {
          throw new HubCursorError(
            "cursor-ahead",
            `Last-Event-ID points past the newest event of topic "${t.topic}": it was forged or ` +
              "belongs to another deployment. Reconnect without Last-Event-ID.",
          );
        }
      });
    }
  } catch (error) {
    stop.abort();
    plan.signal?.removeEventListener("abort", onAbort);
    throw error;
  }

  const prefix = encodeCursor(epoch, tag, []);
  const parts = positions.map(encodeCursorPosition);
  const setPosition = (i: number, position: string) => {
    positions[i] = position;
    parts[i] = encodeCursorPosition(position);
  };
  const cursor = () => prefix + "." + parts.join(".");

  if (plan.cursor) {
    const reset = plan.cursor.epoch !== epoch;
    first.topics.forEach((t, i) => {
      const requested = plan.cursor!.positions[i];
      accept(i, t, reset ? "reset" : undefined, requested);
    });
  } else {
    // An id-only event: the client holds a cursor before the first event arrives, so a
    // reconnect in between resumes exactly instead of starting from "now" again.
    out.push({ id: cursor() });
  }

  /** Takes one topic's read: a loss event if history is missing, then its entries as a page. */
  function accept(i: number, t: TopicRead, reason: "reset" | undefined, requested: string) {
    const lost = reason ?? (comparePositions(t.lostThrough, positions[i]) > 0 ? "trimmed" : "");
    if (lost) {
      if (lost === "trimmed") setPosition(i, t.lostThrough);
      const data: HistoryLost = {
        topic: t.topic,
        reason: lost,
        requested,
        resumedFrom: t.entries[0]?.id ?? null,
      };
      out.push({ event: HISTORY_LOST_EVENT, data, id: cursor() });
    }
    pages[i] = t.entries;
    more[i] = t.more;
  }

  /** Moves replayed entries to `out` in position order across topics, as far as is safe. */
  function drainPages(): void {
    for (;;) {
      let best = -1;
      for (let i = 0; i < topics.length; i++) {
        // A topic with more to read and nothing in hand could hold the next-oldest entry: stop.
        if (pages[i].length === 0) {
          if (more[i]) return;
          continue;
        }
        if (best === -1 || comparePositions(pages[i][0].id, pages[best][0].id) < 0) best = i;
      }
      if (best === -1) return;
      const entry = pages[best].shift()!;
      emit(best, entry);
    }
  }

  function emit(i: number, entry: BrokerEntry): void {
    setPosition(i, entry.id);
    out.push(eventFor(cursor(), entry));
  }

  async function readMore(): Promise<void> {
    const wanted = topics.flatMap((_topic, i) => more[i] && pages[i].length === 0 ? [i] : []);
    const read = await broker.read(
      wanted.map((i) => ({ topic: topics[i], after: positions[i] })),
      plan.replayPageSize,
    );
    if (read.epoch !== epoch) {
      throw new BrokerError("broker-reset", "The broker was reset during replay; resume.");
    }
    read.topics.forEach((t, k) => accept(wanted[k], t, undefined, positions[wanted[k]]));
  }

  function drainLive(): void {
    while (live.length > 0) {
      const { topicIndex, entries } = live.shift()!;
      liveCount -= entries.length;
      for (const entry of entries) {
        // The overlap with replay (and anything older than the cursor) is dropped by position.
        if (comparePositions(entry.id, positions[topicIndex]) > 0) emit(topicIndex, entry);
      }
    }
  }

  const replaying = () => more.some(Boolean) || pages.some((p) => p.length > 0);
  drainPages();

  const cleanup = () => {
    stop.abort();
    plan.signal?.removeEventListener("abort", onAbort);
  };

  return new ReadableStream<SSEEvent>({
    async pull(controller) {
      try {
        for (;;) {
          if (out.length === 0) {
            if (replaying()) {
              await readMore();
              drainPages();
            } else {
              drainLive();
            }
          }
          if (out.length > 0) {
            for (const event of out) {
              // Events may be shared between subscribers (see eventFor): never edit one in place.
              if (signer && event.id !== undefined) {
                controller.enqueue({ ...event, id: await signer.sign(event.id) });
              } else {
                controller.enqueue(event);
              }
            }
            out.length = 0;
            return;
          }
          if (failure) throw failure;
          if (plan.signal?.aborted) {
            cleanup();
            controller.close();
            return;
          }
          if (live.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        }
      } catch (error) {
        cleanup();
        throw error;
      }
    },
    cancel() {
      cleanup();
    },
  }, { highWaterMark: 0 });
}

// Subscribers of the same topics with the same history hold the same cursor, and a publish reaches
// them one after another: they get the very same event object (one allocation per broadcast, not
// per subscriber, and an encoder may cache by identity). Events are read-only for consumers.
let sharedId = "";
let sharedEntry: BrokerEntry | undefined;
let sharedEvent: SSEEvent | undefined;

function eventFor(id: string, entry: BrokerEntry): SSEEvent {
  if (entry === sharedEntry && id === sharedId) return sharedEvent!;
  const event: SSEEvent = { id, data: entry.event.data };
  if (entry.event.event !== undefined) event.event = entry.event.event;
  sharedId = id;
  sharedEntry = entry;
  sharedEvent = event;
  return event;
}
