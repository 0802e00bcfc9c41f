import type { SSEEvent } from "../protocol/types.ts";
import type { Broker, HubEvent } from "./broker.ts";
import { decodeCursor, topicsTag } from "./cursor.ts";
import { createCursorSigner, type CursorSigner } from "./cursor_signing.ts";
import { openSubscription, type Subscription } from "./subscription.ts";
import { DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION, normalizeTopics, validateTopic } from "./topics.ts";
import { validateHubEvents } from "./publish_validation.ts";
import { hubResponse, type HubResponseOptions } from "./hub_response.ts";

/** Options of {@link createHub}. */
export interface HubOptions {
  /** Where topics live: `new MemoryBroker()` for one isolate, `UpstashBroker` across isolates. */
  broker: Broker;
  /** Topics one subscription may hold. Default 32. */
  maxTopicsPerSubscription?: number;
  /** History entries read per topic per broker call during replay. Default 500. */
  replayPageSize?: number;
  /**
   * Events a subscriber may have queued and unsent before it is disconnected (its client then
   * resumes from its cursor). Default 10 000.
   */
  maxQueuedEvents?: number;
  /**
   * A secret (16+ characters) to sign cursors with (HMAC-SHA256): a client can't edit its
   * cursor to read positions it was never sent. Same secret on every server of a deployment.
   */
  cursorSecret?: string;
}

/** Options of {@link Hub.subscribe}. */
export interface SubscribeOptions {
  /** The topics, validated, de-duplicated and sorted (the cursor follows that order). */
  topics: readonly string[];
  /** The cursor to resume after (a `Last-Event-ID`); none = start now. */
  lastEventId?: string | null;
  /** Ends the stream (and the live listener) when aborted. */
  signal?: AbortSignal;
}

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
   * topics. Rejects with `HubTopicError` or `HubCursorError` before any event.
   */
  subscribe(options: SubscribeOptions): Promise<ReadableStream<SSEEvent>>;
  /**
   * Answers a request with a subscription in one call: the cursor comes from `Last-Event-ID` or
   * the `lastEventId` query parameter; a refused topic list or cursor answers 400.
   */
  response(request: Request, options: HubResponseOptions): Promise<Response>;
  /** The broker the hub was made with. */
  readonly broker: Broker;
}

/**
 * Makes a topic hub over a broker.
 *
 * @example
 * ```ts
 * import { createHub, MemoryBroker } from "@herald/sse";
 * const hub = createHub({ broker: new MemoryBroker() });
 * const stream = await hub.subscribe({ topics: ["news"] });
 * await hub.publish("news", [{ data: "one" }, { data: "two" }]);
 * const reader = stream.getReader();
 * console.log((await reader.read()).value); // { id: "h1.…" } (the starting cursor)
 * console.log((await reader.read()).value); // { id: "h1.…", data: "one" }
 * await reader.cancel();
 * ```
 */
export function createHub(options: HubOptions): Hub {
  const { broker } = options;
  const maxTopics = options.maxTopicsPerSubscription ?? DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION;
  const replayPageSize = options.replayPageSize ?? 500;
  const maxQueuedEvents = options.maxQueuedEvents ?? 10_000;
  if (!broker || typeof broker.publish !== "function") {
    throw new TypeError("createHub needs { broker }: new MemoryBroker() or an UpstashBroker.");
  }
  let signer: Promise<CursorSigner> | undefined;
  if (options.cursorSecret !== undefined) signer = createCursorSigner(options.cursorSecret);

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
  };

  /** Validates topics and cursor, then opens a subscriber (read as a stream or sent to a writer). */
  async function open({ topics, lastEventId, signal }: SubscribeOptions): Promise<Subscription> {
    const sorted = normalizeTopics(topics, maxTopics);
    const tag = topicsTag(sorted);
    const sign = signer ? await signer : undefined;
    let cursor;
    if (lastEventId) {
      const unsigned = sign ? await sign.verify(lastEventId) : lastEventId;
      cursor = decodeCursor(unsigned, sorted);
    }
    return openSubscription({
      broker,
      topics: sorted,
      tag,
      cursor,
      replayPageSize,
      maxQueuedEvents,
      signer: sign,
      signal,
    });
  }
  return hub;
}
