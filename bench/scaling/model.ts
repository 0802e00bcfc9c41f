// The cost model of the hub on Upstash, read from the broker's code (src/adapters/upstash*.ts) and
// checked against measured points by bench/scaling.bench.ts; docs/scaling.md explains it.
// Upstash bills every command (pipelined or not), so the model counts commands per second by
// kind; messages a subscribe stream delivers are not commands, they are bandwidth.
import type { Kind } from "./classify.ts";

/** Seconds in a billing month of 30 days. */
export const SECONDS_PER_MONTH = 30 * 24 * 3600;
/** Upstash pay-as-you-go: dollars per command ($0.20 per 100k). */
export const DOLLARS_PER_COMMAND = 0.2 / 100_000;
/** Upstash pay-as-you-go: dollars per GB of bandwidth past the free 200 GB a month. */
export const DOLLARS_PER_GB = 0.03;
export const FREE_GB_PER_MONTH = 200;
/** Upstash pay-as-you-go: the most commands per second one database takes. */
export const MAX_COMMANDS_PER_SECOND = 10_000;

/** A deployment, as the model sees it. */
export interface Deployment {
  /** Isolates (server processes) running a hub against the same database. */
  isolates: number;
  /** Topics with readers. */
  topics: number;
  /** Distinct topics one isolate has readers of (at most `topics`). */
  topicsPerIsolate: number;
  /** Broker publishes per second: one command each, whatever the number of events in it. */
  publishesPerSecond: number;
  /** Events per publish (a batch, or a coalesced stream flush). */
  eventsPerPublish: number;
  /** Readers connected at any moment (open `hub.response`/`hub.subscribe` streams). */
  readers: number;
  /**
   * How long a reader's connection lasts before it reconnects, in seconds (the platform's
   * maximum duration, a `maxDurationMs`, or users coming and going). Infinity: never.
   */
  readerLifetimeS: number;
  /** How long an isolate's live feed lasts before it is opened again (cold starts). Infinity: never. */
  feedLifetimeS: number;
  /** The broker's `pingIntervalMs`. Default 15 000. */
  pingIntervalMs: number;
  /** How long a ping takes to come back: the next is sent an interval after it. Default 0. */
  pingRoundTripMs: number;
  /**
   * One live feed per reader instead of per isolate: `shareFeed: false`, the default on Workers,
   * where I/O can't cross requests.
   */
  feedPerReader: boolean;
  /** Bytes of one event as the hub stores it (its JSON). */
  eventBytes: number;
  /**
   * Broker reads per reader connection: 1 today (every subscription reads the heads, or the
   * history after its cursor). A hub that answered fresh readers and recent resumes from its
   * live feed's own state would make it the share of resumes it can't serve (see
   * docs/scaling.md, "What comes next").
   */
  readsPerReaderConnect: number;
  /** Resumable streams started per second (`hub.startStream` calls that run a producer). */
  streamsStartedPerSecond: number;
  /** How long a stream's producer runs, in seconds. */
  streamSeconds: number;
  /** Writes (`out.write`, one token each) per second of a running stream. */
  tokensPerSecond: number;
  /** The streams' `coalesceMs`: writes within it are one append. Default 20. */
  coalesceMs: number;
  /** `hub.cancelStream` calls per second. */
  cancelsPerSecond: number;
  /** Isolates with at least one open reader of a running stream. */
  isolatesReadingStreams: number;
  /** The hubs' `presenceIntervalMs`. Default 1000. */
  presenceIntervalMs: number;
}

/** Commands per second by kind, and what the subscribe streams carry. */
export interface Load {
  commandsPerSecond: Record<Kind, number>;
  totalCommandsPerSecond: number;
  /** Live feeds open (subscribe streams). */
  feeds: number;
  /** Messages the subscribe streams deliver per second (every feed gets every notification). */
  messagesPerSecond: number;
  /** Bytes per second the subscribe streams deliver. */
  bytesPerSecond: number;
}

/** Bytes of one notification on the subscribe stream, beyond its events' JSON. */
export const NOTIFICATION_OVERHEAD_BYTES = 60;
/** Bytes of each event's id and framing inside a notification. */
export const EVENT_IN_NOTIFICATION_BYTES = 24;
/** Bytes of a ping notification on the stream. */
export const PING_BYTES = 60;

/**
 * Commands per second of a deployment in its steady state, by kind:
 * - publish: one `EVAL` per broker publish (XADD per event, trim, one PUBLISH inside the script);
 * - ping: one PUBLISH per live feed per `pingIntervalMs` plus the ping's round trip (the next
 *   ping is sent an interval after the last one came back: liveness of the subscribe stream);
 * - subscribe: one per live feed opened;
 * - read: one `EVAL` per reader connection (the subscription's first read: heads, or history after
 *   its cursor), plus one per topic when a live feed starts serving it (it notes the head);
 * - stream: resumable streams: one claim per stream started, one append per coalescing window
 *   with writes in it (it carries the batch, the lease renewal, the cancel check and the reader
 *   count), one per cancel; a producer's heartbeat (every leaseMs / 3) only while it writes
 *   nothing, left out here;
 * - presence: one report per isolate with readers of running streams, per `presenceIntervalMs`,
 *   for all of its stream topics.
 * Every publish and every append also sends one notification to every live feed.
 */
export function load(d: Deployment): Load {
  const readerConnectsPerSecond = d.readers / d.readerLifetimeS;
  const feeds = d.feedPerReader ? d.readers : d.isolates;
  const feedStartsPerSecond = d.feedPerReader ? readerConnectsPerSecond : feeds / d.feedLifetimeS;
  const topicsPerFeed = d.feedPerReader ? 1 : d.topicsPerIsolate;
  const pingsPerSecond = feeds / ((d.pingIntervalMs + d.pingRoundTripMs) / 1000);
  const runningStreams = d.streamsStartedPerSecond * d.streamSeconds;
  const appendsPerStream = Math.min(d.tokensPerSecond, 1000 / Math.max(1, d.coalesceMs));
  const appendsPerSecond = runningStreams * appendsPerStream;
  const tokensPerAppend = appendsPerStream === 0 ? 0 : d.tokensPerSecond / appendsPerStream;
  const commandsPerSecond: Record<Kind, number> = {
    publish: d.publishesPerSecond,
    read: readerConnectsPerSecond * d.readsPerReaderConnect + feedStartsPerSecond * topicsPerFeed,
    subscribe: feedStartsPerSecond,
    ping: pingsPerSecond,
    presence: d.isolatesReadingStreams * 1000 / d.presenceIntervalMs,
    stream: d.streamsStartedPerSecond + appendsPerSecond + d.cancelsPerSecond,
    other: 0,
  };
  const notificationBytes = NOTIFICATION_OVERHEAD_BYTES +
    d.eventsPerPublish * (d.eventBytes + EVENT_IN_NOTIFICATION_BYTES);
  // Every feed listens on the one notify channel: it gets every publish of every topic, and every
  // feed's pings.
  const appendBytes = NOTIFICATION_OVERHEAD_BYTES +
    tokensPerAppend * (d.eventBytes + EVENT_IN_NOTIFICATION_BYTES);
  const messagesPerSecond = feeds * (d.publishesPerSecond + appendsPerSecond + pingsPerSecond);
  const bytesPerSecond = feeds * (d.publishesPerSecond * notificationBytes +
    appendsPerSecond * appendBytes + pingsPerSecond * PING_BYTES);
  return {
    commandsPerSecond,
    totalCommandsPerSecond: Object.values(commandsPerSecond).reduce((a, b) => a + b, 0),
    feeds,
    messagesPerSecond,
    bytesPerSecond,
  };
}

/**
 * The one-off commands of opening `readers` subscriptions spread over the isolates: one read
 * each, one activation read per topic per isolate, one subscribe per isolate.
 */
export function setupCommands(
  d: Pick<Deployment, "isolates" | "topicsPerIsolate" | "readers" | "feedPerReader">,
): Record<Kind, number> {
  const feeds = d.feedPerReader ? d.readers : d.isolates;
  return {
    publish: 0,
    read: d.readers + (d.feedPerReader ? d.readers : d.isolates * d.topicsPerIsolate),
    subscribe: feeds,
    ping: 0,
    presence: 0,
    stream: 0,
    other: 0,
  };
}

/** A month of a deployment: commands, bandwidth and what Upstash would bill for them. */
export interface Month {
  commands: number;
  dollarsForCommands: number;
  gigabytes: number;
  dollarsForBandwidth: number;
  /** Whether one database can take the command rate (Upstash's per-database limit). */
  fitsOneDatabase: boolean;
}

/** What a month of `d` costs on Upstash pay-as-you-go (storage aside: see docs/scaling.md). */
export function month(d: Deployment): Month {
  const l = load(d);
  const commands = l.totalCommandsPerSecond * SECONDS_PER_MONTH;
  const gigabytes = l.bytesPerSecond * SECONDS_PER_MONTH / 1e9;
  return {
    commands,
    dollarsForCommands: commands * DOLLARS_PER_COMMAND,
    gigabytes,
    dollarsForBandwidth: Math.max(0, gigabytes - FREE_GB_PER_MONTH) * DOLLARS_PER_GB,
    fitsOneDatabase: l.totalCommandsPerSecond <= MAX_COMMANDS_PER_SECOND,
  };
}

/** Defaults for a deployment: the broker's defaults, nobody reconnecting. */
export function deployment(partial: Partial<Deployment>): Deployment {
  const d: Deployment = {
    isolates: 1,
    topics: 1,
    topicsPerIsolate: 1,
    publishesPerSecond: 0,
    eventsPerPublish: 1,
    readers: 0,
    readerLifetimeS: Infinity,
    feedLifetimeS: Infinity,
    pingIntervalMs: 15_000,
    pingRoundTripMs: 0,
    feedPerReader: false,
    eventBytes: 200,
    readsPerReaderConnect: 1,
    streamsStartedPerSecond: 0,
    streamSeconds: 0,
    tokensPerSecond: 0,
    coalesceMs: 20,
    cancelsPerSecond: 0,
    isolatesReadingStreams: 0,
    presenceIntervalMs: 1000,
    ...partial,
  };
  if (partial.topicsPerIsolate === undefined) d.topicsPerIsolate = d.topics;
  return d;
}
