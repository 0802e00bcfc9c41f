import type { SSEEvent } from "../protocol/types.ts";
import type { SSEEventMap } from "../server/writer.ts";
import type { Broker, HubEvent, StreamBroker } from "./broker.ts";
import { decodeCursor, encodeCursor, maxCursorLength, topicsTag } from "./cursor.ts";
import { createCursorSigner, type CursorSigner } from "./cursor_signing.ts";
import { newEpoch } from "./epoch.ts";
import type {
  DeliveryInfo,
  HubOptions,
  HubResponseOptions,
  SubscribeOptions,
} from "./hub_options.ts";
import { hubResponse } from "./hub_response.ts";
import { PresenceTracker } from "./presence.ts";
import { validateHubEvents } from "./publish_validation.ts";
import {
  DEFAULT_COALESCE_MS,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_STREAM_TTL_MS,
  type StartedStream,
  type StreamOptions,
  type StreamWriter,
} from "./stream_options.ts";
import { StreamProducer } from "./stream_producer.ts";
import { openSubscription, type SubscriberSettings, type Subscription } from "./subscription.ts";
import { TopicListCache } from "./topic_list_cache.ts";
import { DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION, normalizeTopics, validateTopic } from "./topics.ts";

export type { HubOptions, SubscribeOptions } from "./hub_options.ts";

/** How often a hub reports its stream readers, unless `presenceIntervalMs` says. */
export const DEFAULT_PRESENCE_INTERVAL_MS = 1_000;
/** The longest `reason` `cancelStream` takes, in characters. */
export const MAX_CANCEL_REASON_LENGTH = 256;

/** A topic hub. Made by {@link createHub}. */
export interface Hub {
  /**
   * Stores events in a topic (one atomic broker call for a whole batch), fans them out, and
   * returns the positions assigned, in order. Throws `HubTopicError` or `HubEventError`
   * before anything is stored.
   */
  publish(topic: string, events: HubEvent | readonly HubEvent[]): Promise<string[]>;
  /**
   * A stream of events for `sseResponse`, every one with an `id:` that resumes all of its
   * topics. Rejects with `HubTopicError` or `HubCursorError` before any event. It ends (closes)
   * once every topic's stream has sent its `herald.end`; at once, empty, when the cursor is
   * already at every end.
   */
  subscribe(options: SubscribeOptions): Promise<ReadableStream<SSEEvent>>;
  /**
   * Answers a request with a subscription in one call: the cursor comes from `Last-Event-ID` or
   * the `lastEventId` query parameter; a refused topic list or cursor answers 400. The response
   * closes after a stream's `herald.end`; a request whose cursor is at the end of every topic's
   * stream answers 204, so `EventSource` and `connect()` stop instead of reconnecting.
   */
  response(request: Request, options: HubResponseOptions): Promise<Response>;
  /**
   * Starts a resumable stream on `topic` with `produce` as its producer, or joins the one that
   * exists: one producer runs per topic across every isolate sharing the broker, however many
   * calls race. `produce(out)` writes events with `out.write`; when it returns the stream ends
   * `done`, when it throws `error`, when `out.signal` was aborted `cancelled`. Resolves once the
   * stream is claimed (the producer runs on, see `waitUntil`) with the cursor before its first
   * event; for a stream that has ended it runs nothing and resolves the same cursor. Needs a
   * {@link StreamBroker} (`MemoryBroker`, `UpstashBroker`).
   */
  startStream<Events extends SSEEventMap = SSEEventMap>(
    topic: string,
    produce: (out: StreamWriter<Events>) => unknown,
    options?: StreamOptions,
  ): Promise<StartedStream>;
  /**
   * Cancels the stream of `topic` from any isolate: its producer's `out.signal` aborts (within
   * about a second elsewhere, at once here) and the stream ends `cancelled` with `reason`
   * (default `"cancelled"`). Resolves whether a running stream was there to cancel.
   */
  cancelStream(topic: string, reason?: string): Promise<boolean>;
  /** The broker the hub was made with. */
  readonly broker: Broker;
}

/**
 * Makes a topic hub over a broker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, MemoryBroker } from "@herald/sse";
 * const hub = createHub({ broker: new MemoryBroker() });
 * const stream = await hub.subscribe({ topics: ["news"] });
 * await hub.publish("news", [{ data: "one" }, { data: "two" }]);
 * const reader = stream.getReader();
 * const start = (await reader.read()).value!;
 * assert.deepEqual(Object.keys(start), ["id"]); // the starting cursor, no data
 * const one = (await reader.read()).value!;
 * assert.equal(one.data, "one");
 * assert.match(one.id!, /^h1\./);
 * await reader.cancel();
 * ```
 *
 * @example A resumable stream, read from its start
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, MemoryBroker } from "@herald/sse";
 * const hub = createHub({ broker: new MemoryBroker() });
 * const { started, cursor } = await hub.startStream("answer:42", async (out) => {
 *   for (const text of ["Hel", "lo"]) await out.write({ event: "token", data: { text } });
 * });
 * assert.equal(started, true);
 * const response = await hub.response(
 *   new Request("http://localhost/answer", { headers: { "last-event-id": cursor } }),
 *   { topics: ["answer:42"] },
 * );
 * const text = await response.text(); // the response closes after herald.end
 * assert.match(text, /event: token\nid: \S+\ndata: {"text":"Hel"}/);
 * assert.match(text, /event: herald.end\nid: \S+\ndata: {"status":"done"}\n\n$/);
 * const again = await hub.startStream("answer:42", () => {});
 * assert.deepEqual(again, { started: false, cursor });
 * ```
 */
export function createHub(options: HubOptions): Hub {
  const { broker } = options;
  const maxTopics = options.maxTopicsPerSubscription ?? DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION;
  const replayPageSize = options.replayPageSize ?? 500;
  const maxQueuedEvents = options.maxQueuedEvents ?? 10_000;
  const presenceIntervalMs = options.presenceIntervalMs ?? DEFAULT_PRESENCE_INTERVAL_MS;
  const logger = options.logger ?? console;
  if (!broker || typeof broker.publish !== "function") {
    throw new TypeError("createHub needs { broker }: new MemoryBroker() or an UpstashBroker.");
  }
  if (!(presenceIntervalMs >= 10) || !Number.isFinite(presenceIntervalMs)) {
    throw new RangeError(
      `presenceIntervalMs must be at least 10 ms, got ${options.presenceIntervalMs}.`,
    );
  }
  let signer: Promise<CursorSigner> | undefined;
  if (options.cursorSecret !== undefined) {
    signer = createCursorSigner(options.cursorSecret, maxCursorLength(maxTopics));
  }
  // This hub's id in the broker's leases and presence reports.
  const owner = newEpoch();
  const streams = isStreamBroker(broker) ? broker : undefined;
  const presence = streams
    ? new PresenceTracker(streams, owner, presenceIntervalMs, logger)
    : undefined;
  const producers = new Map<string, StreamProducer>();

  const hub: Hub = {
    broker,
    publish(topic, events) {
      try {
        return broker.publish(validateTopic(topic), validateHubEvents(events));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    async subscribe(subscribeOptions) {
      return (await open(subscribeOptions)).toStream();
    },
    response(request, responseOptions) {
      return hubResponse(open, request, responseOptions);
    },
    async startStream(topic, produce, streamOptions = {}) {
      validateTopic(topic);
      const store = needStreams(streams);
      if (typeof produce !== "function") {
        throw new TypeError("startStream needs a produce function: async (out) => { ... }.");
      }
      const settings = resolveStreamOptions(streamOptions);
      const claim = await store.claimStream(topic, {
        owner,
        leaseMs: settings.leaseMs,
        ttlMs: settings.ttlMs,
      });
      let producer: StreamProducer | undefined;
      if (claim.fence !== undefined) {
        producer = new StreamProducer({
          broker: store,
          topic,
          fence: claim.fence,
          ...settings,
          onError: streamOptions.onError,
          logger: streamOptions.logger ?? logger,
        });
        producers.set(topic, producer);
        const running = producer;
        const run = running.run(produce as (out: StreamWriter) => unknown).finally(() => {
          if (producers.get(topic) === running) producers.delete(topic);
        });
        try {
          streamOptions.waitUntil?.(run);
        } catch (error) {
          (streamOptions.logger ?? logger).error("Herald startStream: waitUntil threw.", error);
        }
      }
      const unsigned = encodeCursor(claim.epoch, topicsTag([topic]), [claim.start]);
      const cursor = signer ? await (await signer).sign(unsigned) : unsigned;
      return { started: producer !== undefined, cursor };
    },
    async cancelStream(topic, reason = "cancelled") {
      validateTopic(topic);
      const store = needStreams(streams);
      if (typeof reason !== "string" || reason.length > MAX_CANCEL_REASON_LENGTH) {
        throw new TypeError(
          `cancelStream's reason must be a string of at most ${MAX_CANCEL_REASON_LENGTH} ` +
            "characters.",
        );
      }
      // Here at once; elsewhere through the broker.
      const local = producers.get(topic);
      local?.cancel(reason);
      const asked = await store.cancelStream(topic, reason);
      return asked || local !== undefined;
    },
  };

  /** Validates topics and cursor, then opens a subscriber (read as a stream or sent to a writer). */
  // Shared by every subscriber (made once the signer's key is ready).
  let settings: SubscriberSettings | undefined;
  const topicLists = new TopicListCache();

  async function open(
    { topics, lastEventId, signal }: SubscribeOptions,
    onDeliver?: (info: DeliveryInfo) => void,
  ): Promise<Subscription> {
    const { sorted, tag } = topicLists.get(normalizeTopics(topics, maxTopics));
    const sign = signer ? await signer : undefined;
    settings ??= { broker, replayPageSize, maxQueuedEvents, signer: sign, presence };
    let cursor;
    if (lastEventId) {
      const unsigned = sign ? await sign.verify(lastEventId) : lastEventId;
      cursor = decodeCursor(unsigned, sorted);
    }
    return openSubscription({ settings, topics: sorted, tag, cursor, signal, onDeliver });
  }
  return hub;
}

/** Whether a broker runs resumable streams ({@link StreamBroker}). */
function isStreamBroker(broker: Broker): broker is StreamBroker {
  const candidate = broker as Partial<StreamBroker>;
  return typeof candidate.claimStream === "function" &&
    typeof candidate.appendStream === "function" &&
    typeof candidate.cancelStream === "function" &&
    typeof candidate.touchPresence === "function";
}

function needStreams(streams: StreamBroker | undefined): StreamBroker {
  if (streams) return streams;
  throw new TypeError(
    "This hub's broker does not run resumable streams (claimStream, appendStream, cancelStream, " +
      "touchPresence): use MemoryBroker or UpstashBroker, or add them to the broker.",
  );
}

interface StreamSettings {
  coalesceMs: number;
  maxBatchBytes: number;
  leaseMs: number;
  idleCancelMs: number | undefined;
  ttlMs: number;
}

function resolveStreamOptions(options: StreamOptions): StreamSettings {
  const settings: StreamSettings = {
    coalesceMs: options.coalesceMs ?? DEFAULT_COALESCE_MS,
    maxBatchBytes: options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
    leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    idleCancelMs: options.idleCancelMs,
    ttlMs: options.ttlMs ?? DEFAULT_STREAM_TTL_MS,
  };
  const check = (name: string, value: number | undefined, min: number) => {
    if (value !== undefined && !(Number.isFinite(value) && value >= min)) {
      throw new RangeError(
        `startStream's ${name} must be a number of at least ${min}, got ${value}.`,
      );
    }
  };
  check("coalesceMs", settings.coalesceMs, 0);
  check("maxBatchBytes", settings.maxBatchBytes, 1);
  check("leaseMs", settings.leaseMs, 30);
  check("idleCancelMs", settings.idleCancelMs, 1);
  check("ttlMs", settings.ttlMs, 1);
  return settings;
}
