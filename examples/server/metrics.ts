// The server's counters, rendered in the Prometheus text exposition format (version 0.0.4), and
// read as one snapshot by the live view (live_stats.ts).
import type { SSEStats } from "@herald/sse/server";

/** Upper bounds of the delivery-lag histogram, in seconds. */
export const LAG_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** How a resumable stream ended: the `status` of its `herald.end` event. */
export type StreamEndStatus = "done" | "error" | "cancelled" | "lost";

/**
 * Why a stream was cancelled, as counted: `unwatched` (nobody read it for `idleCancelMs`),
 * `stopped` (someone asked, e.g. the page's Stop button), `other` (anything else: a lost lease,
 * a server shutting down). A closed set, so a client-chosen reason can't grow the label set.
 */
export type StreamCancelReason = "unwatched" | "stopped" | "other";

/**
 * Counters of one isolate: connections open, opened, closed by reason and refused by code;
 * events published and delivered; delivery lag (publish to hand-over to the connection, a
 * histogram); broker errors; resumable streams started, ended by status, cancelled by reason.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Metrics } from "./metrics.ts";
 * const metrics = new Metrics();
 * metrics.connectionOpened();
 * metrics.connectionClosed("client-disconnected");
 * metrics.streamStarted();
 * metrics.streamEnded("cancelled", "unwatched");
 * const text = metrics.render();
 * assert.match(text, /^herald_connections_open 0$/m);
 * assert.match(text, /^herald_streams_cancelled_total\{reason="unwatched"\} 1$/m);
 * ```
 */
export class Metrics {
  open = 0;
  opened = 0;
  readonly closedByReason = new Map<string, number>();
  readonly refusedByCode = new Map<string, number>();
  published = 0;
  delivered = 0;
  brokerErrors = 0;
  streamsStarted = 0;
  readonly streamsEndedByStatus = new Map<StreamEndStatus, number>();
  readonly streamsCancelledByReason = new Map<StreamCancelReason, number>();
  readonly #lagBuckets = new Array<number>(LAG_BUCKETS_SECONDS.length).fill(0);
  #lagCount = 0;
  #lagSumSeconds = 0;

  /** A subscription stream started. */
  connectionOpened(): void {
    this.open++;
    this.opened++;
  }

  /** A subscription stream ended, for `reason` (the response builder's close reason). */
  connectionClosed(reason: string): void {
    this.open = Math.max(0, this.open - 1);
    this.closedByReason.set(reason, (this.closedByReason.get(reason) ?? 0) + 1);
  }

  /** A request was refused with this error code (401, 403, 429, ...). */
  refused(code: string): void {
    this.refusedByCode.set(code, (this.refusedByCode.get(code) ?? 0) + 1);
  }

  /** `count` events were stored by the broker. */
  eventsPublished(count: number): void {
    this.published += count;
  }

  /** One event was handed to a subscriber's connection, `lagMs` after it was published. */
  eventDelivered(lagMs: number | undefined): void {
    this.delivered++;
    if (lagMs === undefined || !Number.isFinite(lagMs)) return;
    const seconds = Math.max(0, lagMs) / 1000;
    this.#lagCount++;
    this.#lagSumSeconds += seconds;
    for (let i = 0; i < LAG_BUCKETS_SECONDS.length; i++) {
      if (seconds <= LAG_BUCKETS_SECONDS[i]) this.#lagBuckets[i]++;
    }
  }

  /** The broker failed (publish, replay or live subscription). */
  brokerError(): void {
    this.brokerErrors++;
  }

  /** A resumable stream's producer started in this isolate. */
  streamStarted(): void {
    this.streamsStarted++;
  }

  /** A stream whose producer ran here ended; `reason` only for `cancelled`. */
  streamEnded(status: StreamEndStatus, reason?: StreamCancelReason): void {
    this.streamsEndedByStatus.set(status, (this.streamsEndedByStatus.get(status) ?? 0) + 1);
    if (status === "cancelled") {
      const why = reason ?? "other";
      this.streamsCancelledByReason.set(why, (this.streamsCancelledByReason.get(why) ?? 0) + 1);
    }
  }

  /** Resumable streams started here and not ended yet. */
  get streamsRunning(): number {
    let ended = 0;
    for (const n of this.streamsEndedByStatus.values()) ended += n;
    return Math.max(0, this.streamsStarted - ended);
  }

  /** Everything, in the Prometheus text format. */
  render(): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    metric("herald_connections_open", "gauge", "Subscription streams open now.");
    lines.push(`herald_connections_open ${this.open}`);
    metric("herald_connections_opened_total", "counter", "Subscription streams opened.");
    lines.push(`herald_connections_opened_total ${this.opened}`);
    metric("herald_connections_closed_total", "counter", "Subscription streams closed, by reason.");
    for (const [reason, n] of [...this.closedByReason].sort()) {
      lines.push(`herald_connections_closed_total{reason="${label(reason)}"} ${n}`);
    }
    metric("herald_requests_refused_total", "counter", "Requests refused, by error code.");
    for (const [code, n] of [...this.refusedByCode].sort()) {
      lines.push(`herald_requests_refused_total{code="${label(code)}"} ${n}`);
    }
    metric("herald_events_published_total", "counter", "Events stored by the broker.");
    lines.push(`herald_events_published_total ${this.published}`);
    metric("herald_events_delivered_total", "counter", "Events handed to subscriber streams.");
    lines.push(`herald_events_delivered_total ${this.delivered}`);
    metric(
      "herald_delivery_lag_seconds",
      "histogram",
      "Time from publish to hand-over to a subscriber stream (live events only).",
    );
    LAG_BUCKETS_SECONDS.forEach((le, i) => {
      lines.push(`herald_delivery_lag_seconds_bucket{le="${le}"} ${this.#lagBuckets[i]}`);
    });
    lines.push(`herald_delivery_lag_seconds_bucket{le="+Inf"} ${this.#lagCount}`);
    lines.push(`herald_delivery_lag_seconds_sum ${this.#lagSumSeconds}`);
    lines.push(`herald_delivery_lag_seconds_count ${this.#lagCount}`);
    metric("herald_broker_errors_total", "counter", "Broker failures.");
    lines.push(`herald_broker_errors_total ${this.brokerErrors}`);
    metric("herald_streams_started_total", "counter", "Resumable streams produced here.");
    lines.push(`herald_streams_started_total ${this.streamsStarted}`);
    metric("herald_streams_ended_total", "counter", "Resumable streams ended, by status.");
    for (const [status, n] of [...this.streamsEndedByStatus].sort()) {
      lines.push(`herald_streams_ended_total{status="${status}"} ${n}`);
    }
    metric(
      "herald_streams_cancelled_total",
      "counter",
      "Resumable streams cancelled, by reason (unwatched: no reader for idleCancelMs).",
    );
    for (const [reason, n] of [...this.streamsCancelledByReason].sort()) {
      lines.push(`herald_streams_cancelled_total{reason="${reason}"} ${n}`);
    }
    return lines.join("\n") + "\n";
  }
}

/**
 * What this isolate's SSE responses hold now (the response builder's `sseStats()`), as gauges:
 * after every client has left they are all back to zero, so a leak shows as a line that never
 * comes down.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseStats } from "@herald/sse/server";
 * import { streamGauges } from "./metrics.ts";
 * assert.match(streamGauges(sseStats()), /^herald_stream_timers 0$/m);
 * ```
 */
export function streamGauges(stats: SSEStats): string {
  const gauges: [string, string, number][] = [
    [
      "herald_stream_timers",
      "Timers owned by open streams (keep-alive, max duration).",
      stats.timers,
    ],
    ["herald_stream_producers", "Stream producers still running.", stats.producers],
    ["herald_stream_queued_events", "Events queued for slow clients.", stats.queuedEvents],
    ["herald_stream_queued_bytes", "Bytes queued for slow clients.", stats.queuedBytes],
  ];
  return gauges.map(([name, help, value]) =>
    `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`
  ).join("");
}

function label(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
