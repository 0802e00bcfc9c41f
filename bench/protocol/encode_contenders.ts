// The encoder contenders. Each takes the workload's events (data as an object or a string) and
// produces UTF-8 bytes; JSON serialisation is part of the work for everyone (Hono's writer
// takes a string, so its caller stringifies). A timed run counts output bytes; a verify run
// parses the output again and digests every event, so a contender that drops or garbles events
// fails before it is timed.

import { createEventBuffer, createSession } from "better-sse";
import { SSEStreamingApi } from "hono/streaming";
import { createParser, encodeEvent, SSEEncoderStream, type SSEEvent } from "../../mod.ts";
import type { Contender, Group, Outcome } from "../support/measure.ts";
import { EventDigest } from "./digest.ts";
import type { Workload } from "./workloads.ts";

/** Names used in tables and in the target checks. */
export const ENCODER = {
  herald: "herald encodeEvent + TextEncoder",
  betterSseBuffer: "better-sse EventBuffer + TextEncoder",
  floor: "floor: template string + TextEncoder",
  heraldStream: "herald SSEEncoderStream (writer)",
  heraldPipe: "herald SSEEncoderStream (pipeThrough)",
  hono: "hono SSEStreamingApi.writeSSE",
  betterSse: "better-sse Session.batch",
  floorStream: "floor: TransformStream(template + TextEncoder)",
} as const;

/** Collects output for a verify run: every chunk, parsed again by the reference parser. */
class OutputCheck {
  readonly digest = new EventDigest();
  readonly #parser;

  constructor(dataOf: (data: string) => string = (data) => data) {
    this.#parser = createParser({
      onEvent: (message) => this.digest.add(message, dataOf(message.data)),
    });
  }

  add(chunk: Uint8Array): void {
    this.#parser.feed(chunk);
  }
}

/** The least work that writes these workloads correctly: no checks, no general line splitting. */
function floorFormat(event: SSEEvent): string {
  const data = typeof event.data === "string"
    ? event.data.replaceAll("\n", "\ndata: ")
    : JSON.stringify(event.data);
  return event.id === undefined ? `data: ${data}\n\n` : `id: ${event.id}\ndata: ${data}\n\n`;
}

function outcome(check: OutputCheck | undefined, bytes: number): Outcome {
  return check
    ? { events: check.digest.events, digest: check.digest.toString() }
    : { events: -1, digest: String(bytes) };
}

/**
 * Timed runs can't count events in the bytes without parsing them, which would swamp the
 * encoders' own cost; they count bytes and events written, and the verify run proves the bytes.
 */
function timedOutcome(events: number, bytes: number): Outcome {
  return { events, digest: String(bytes) };
}

/** `encodeEvent` against better-sse's `EventBuffer` and a template string, each to bytes. */
export function syncGroup(workload: Workload, outputBytes: number): Group {
  const events = workload.events!;
  const herald = (check?: OutputCheck): Outcome => {
    const encoder = new TextEncoder();
    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      const chunk = encoder.encode(encodeEvent(events[i]));
      bytes += chunk.length;
      check?.add(chunk);
    }
    return check ? outcome(check, bytes) : timedOutcome(events.length, bytes);
  };
  const betterSse = (check?: OutputCheck): Outcome => {
    const encoder = new TextEncoder();
    const buffer = createEventBuffer();
    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      buffer.clear();
      if (event.event !== undefined) buffer.event(event.event);
      if (event.id !== undefined) buffer.id(event.id);
      const chunk = encoder.encode(buffer.data(event.data).dispatch().read());
      bytes += chunk.length;
      check?.add(chunk);
    }
    return check ? outcome(check, bytes) : timedOutcome(events.length, bytes);
  };
  const floor = (check?: OutputCheck): Outcome => {
    const encoder = new TextEncoder();
    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      const chunk = encoder.encode(floorFormat(events[i]));
      bytes += chunk.length;
      check?.add(chunk);
    }
    return check ? outcome(check, bytes) : timedOutcome(events.length, bytes);
  };
  const jsonString = typeof events[0].data === "string";
  return {
    title: `encode, one event at a time: ${workload.title}`,
    bytes: outputBytes,
    events: events.length,
    contenders: [
      { name: ENCODER.herald, run: () => herald(), verify: () => herald(new OutputCheck()) },
      {
        name: ENCODER.betterSseBuffer,
        note: jsonString ? "sends string data JSON-quoted" : undefined,
        run: () => betterSse(),
        verify: () => betterSse(new OutputCheck(jsonString ? JSON.parse : undefined)),
      },
      {
        name: ENCODER.floor,
        floor: true,
        run: () => floor(),
        verify: () => floor(new OutputCheck()),
      },
    ],
  };
}

async function drain(
  readable: ReadableStream<Uint8Array>,
  check?: OutputCheck,
): Promise<number> {
  let bytes = 0;
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.length;
    check?.add(value);
  }
}

/**
 * `SSEEncoderStream` against Hono's `SSEStreamingApi` (the target's group), or with
 * `withBetterSse` against a better-sse `Session`, in a group of its own: better-sse queues every
 * write without backpressure, and the heap that leaves behind slowed every contender timed after
 * it (Deno: all of them to ~4.7 µs an event, ratios near 1).
 */
export function streamGroup(
  workload: Workload,
  outputBytes: number,
  withBetterSse = false,
): Group {
  const events = workload.events!;
  const heraldWriter = async (check?: OutputCheck): Promise<Outcome> => {
    const stream = new SSEEncoderStream();
    const reading = drain(stream.readable, check);
    const writer = stream.writable.getWriter();
    // Awaiting each write, as a producer that respects backpressure does (and as Hono's
    // `await stream.writeSSE()` does).
    for (let i = 0; i < events.length; i++) await writer.write(events[i]);
    await writer.close();
    const bytes = await reading;
    return check ? outcome(check, bytes) : timedOutcome(events.length, bytes);
  };
  const heraldPipe = async (check?: OutputCheck): Promise<Outcome> => {
    let i = 0;
    const producer = new ReadableStream<SSEEvent>({
      pull(controller) {
        if (i < events.length) controller.enqueue(events[i++]);
        else controller.close();
      },
    }, { highWaterMark: 0 });
    const bytes = await drain(producer.pipeThrough(new SSEEncoderStream()), check);
    return check ? outcome(check, bytes) : timedOutcome(events.length, bytes);
  };
  const hono = async (check?: OutputCheck): Promise<Outcome> => {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const api = new SSEStreamingApi(writable, readable);
    const reading = drain(api.responseReadable, check);
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      await api.writeSSE({
        data: typeof event.data === "string" ? event.data : JSON.stringify(event.data),
        event: event.event,
        id: event.id,
      });
    }
    await api.close();
    const bytes = await reading;
    return check ? outcome(check, bytes) : timedOutcome(events.length, bytes);
  };
  const betterSse = async (check?: OutputCheck): Promise<Outcome> => {
    const abort = new AbortController();
    const session = await createSession(
      new Request("http://127.0.0.1/", { signal: abort.signal }),
      { keepAlive: null, retry: null },
    );
    // The session counts as connected one macrotask after it is made (it uses setImmediate).
    await new Promise<void>((resolve) => session.once("connected", () => resolve()));
    const reading = drain(session.getResponse().body!, check);
    const buffer = createEventBuffer();
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      buffer.clear();
      if (event.event !== undefined) buffer.event(event.event);
      if (event.id !== undefined) buffer.id(event.id);
      buffer.data(event.data).dispatch();
      await session.batch(buffer);
    }
    // A fetch session ends when its request is aborted; that closes the response stream.
    abort.abort();
    const bytes = await reading;
    return check ? outcome(check, bytes) : timedOutcome(events.length, bytes);
  };
  const floor = async (check?: OutputCheck): Promise<Outcome> => {
    const encoder = new TextEncoder();
    const stream = new TransformStream<SSEEvent, Uint8Array>({
      transform(event, controller) {
        controller.enqueue(encoder.encode(floorFormat(event)));
      },
    });
    const reading = drain(stream.readable, check);
    const writer = stream.writable.getWriter();
    for (let i = 0; i < events.length; i++) await writer.write(events[i]);
    await writer.close();
    const bytes = await reading;
    return check ? outcome(check, bytes) : timedOutcome(events.length, bytes);
  };
  const jsonString = typeof events[0].data === "string";
  if (withBetterSse) {
    return {
      title: `encode, streams, against better-sse: ${workload.title}`,
      bytes: outputBytes,
      events: events.length,
      contenders: [
        {
          name: ENCODER.heraldStream,
          run: () => heraldWriter(),
          verify: () => heraldWriter(new OutputCheck()),
        },
        {
          name: ENCODER.betterSse,
          note: "no backpressure: writes are queued, not awaited" +
            (jsonString ? "; sends string data JSON-quoted" : ""),
          run: () => betterSse(),
          verify: () => betterSse(new OutputCheck(jsonString ? JSON.parse : undefined)),
        },
      ],
    };
  }
  const contenders: Contender[] = [
    {
      name: ENCODER.heraldStream,
      run: () => heraldWriter(),
      verify: () => heraldWriter(new OutputCheck()),
    },
    {
      name: ENCODER.heraldPipe,
      run: () => heraldPipe(),
      verify: () => heraldPipe(new OutputCheck()),
    },
    { name: ENCODER.hono, run: () => hono(), verify: () => hono(new OutputCheck()) },
    {
      name: ENCODER.floorStream,
      floor: true,
      run: () => floor(),
      verify: () => floor(new OutputCheck()),
    },
  ];
  return {
    title: `encode, streams: ${workload.title}`,
    bytes: outputBytes,
    events: events.length,
    contenders,
  };
}

/** The size of the workload as Herald writes it, for MB/s. */
export function heraldOutputBytes(workload: Workload): number {
  const encoder = new TextEncoder();
  let bytes = 0;
  for (const event of workload.events!) bytes += encoder.encode(encodeEvent(event)).length;
  return bytes;
}
