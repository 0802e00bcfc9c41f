// Fan-out anatomy: what one connection and one delivery cost inside the server, without the
// network, for the minimal broadcast server, `sseResponse` alone and the hub (`hub.response`).
// Each connection is a real Response whose body is read by a pending reader, as the runtime's HTTP
// server would pull it; a broadcast is one event to every connection, done when every reader got
// it. Reported per implementation: heap bytes per connection (after a full GC), JS CPU per delivery
// (this process, user+system), and on Bun the objects per connection by type (bun:jsc heapStats),
// the per-object accounting behind the memory numbers.
//   bun bench/fanout/anatomy.ts [--n 10000] [--broadcasts 50] [--only minimal,response,hub]
//   deno run -A --v8-flags=--expose-gc bench/fanout/anatomy.ts [...]
// Profile one implementation's delivery path with the runtime's profiler, e.g.
//   bun --cpu-prof-md --cpu-prof-dir=bench/.out bench/fanout/anatomy.ts --only hub
import process from "node:process";
import { createHub, MemoryBroker, sseResponse, type SSEWriter } from "../../mod.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const N = Number(option("--n", "10000"));
const BROADCASTS = Number(option("--broadcasts", "50"));
const ONLY = option("--only", "minimal,response,hub").split(",");
const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
const isBun = g.Bun !== undefined;
const runtime = isBun ? "bun" : "deno";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type HeapStats = { heapSize: number; objectTypeCounts: Record<string, number> };
const jsc = isBun ? await import("bun:jsc" as string) as { heapStats(): HeapStats } : undefined;

async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    if (g.Bun) g.Bun.gc(true);
    else g.gc?.();
    await sleep(20);
  }
}

function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

const EVENT_DATA = '{"ts":0,"pad":"' + "x".repeat(180) + '"}';
const encoder = new TextEncoder();

/** One implementation: opens a connection (a Response), broadcasts one event to all. */
interface Impl {
  open(request: Request): Response | Promise<Response>;
  broadcast(n: number): void | Promise<unknown>;
  /** Drops what the implementation keeps (so the next one starts clean). */
  dispose(): void;
}

function minimal(): Impl {
  const controllers = new Set<ReadableStreamDefaultController<Uint8Array>>();
  return {
    open() {
      let mine: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          mine = controller;
          controllers.add(controller);
          controller.enqueue(encoder.encode(":\n\n"));
        },
        cancel() {
          controllers.delete(mine);
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    },
    broadcast(n) {
      const bytes = encoder.encode(`event: tick\nid: ${n}\ndata: ${EVENT_DATA}\n\n`);
      for (const controller of controllers) controller.enqueue(bytes);
    },
    dispose: () => controllers.clear(),
  };
}

function response(): Impl {
  const writers = new Set<SSEWriter>();
  return {
    open(request) {
      return sseResponse((stream) => {
        writers.add(stream);
        stream.closed.then(() => writers.delete(stream));
      }, { request });
    },
    broadcast(n) {
      const event = Object.freeze({ event: "tick", id: String(n), data: EVENT_DATA });
      for (const writer of writers) void writer.send(event);
    },
    dispose: () => writers.clear(),
  };
}

function hub(): Impl {
  const h = createHub({ broker: new MemoryBroker({ maxEventsPerTopic: 1000 }) });
  return {
    open: (request) => h.response(request, { topics: ["all"] }),
    broadcast: () => h.publish("all", { event: "tick", data: EVENT_DATA }),
    dispose() {},
  };
}

const makers: Record<string, () => Impl> = { minimal, response, hub };

interface Reading {
  delivered: number;
}

/** Reads a body to its end (or its reader's cancel), counting the events it carries. */
async function read(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  into: Reading,
): Promise<void> {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    // Every chunk after the first comment holds whole events; count them by their blank lines.
    for (let i = value.indexOf(10); i !== -1; i = value.indexOf(10, i + 1)) {
      if (value[i + 1] === 10 && value[0] !== 58) into.delivered++;
    }
  }
}

async function untilDelivered(reading: Reading, count: number): Promise<void> {
  for (let spins = 0; reading.delivered < count; spins++) {
    if (spins > 200_000) throw new Error(`stuck at ${reading.delivered} of ${count} deliveries`);
    await (spins < 1000 ? Promise.resolve() : sleep(1));
  }
}

function objectsDiff(before: HeapStats, after: HeapStats, per: number): [string, number][] {
  const diff: [string, number][] = [];
  for (const [type, count] of Object.entries(after.objectTypeCounts)) {
    const delta = (count - (before.objectTypeCounts[type] ?? 0)) / per;
    if (delta >= 0.5) diff.push([type, delta]);
  }
  return diff.sort((a, b) => b[1] - a[1]);
}

console.log(`# Fan-out anatomy on ${runtime}: ${N} connections, ${BROADCASTS} broadcasts\n`);
for (const name of ONLY) {
  const impl = makers[name]();
  const reading: Reading = { delivered: 0 };
  // Warm-up: the whole path once, on a few connections, so compiled code and pools are in the
  // baseline.
  {
    const warm: ReadableStreamDefaultReader<Uint8Array>[] = [];
    for (let i = 0; i < 200; i++) {
      warm.push((await impl.open(new Request("http://bench/events"))).body!.getReader());
    }
    const warmReading: Reading = { delivered: 0 };
    const loops = warm.map((reader) => read(reader, warmReading));
    for (let b = 1; b <= 20; b++) {
      await impl.broadcast(b);
      await untilDelivered(warmReading, b * warm.length);
    }
    for (const reader of warm) await reader.cancel().catch(() => {});
    await Promise.allSettled(loops);
    impl.dispose();
  }
  await collect();
  const heapBefore = heapUsed();
  const rssBefore = process.memoryUsage.rss();
  const statsBefore = jsc?.heapStats();
  const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  const loops: Promise<void>[] = [];
  for (let i = 0; i < N; i++) {
    const reader = (await impl.open(new Request("http://bench/events"))).body!.getReader();
    readers.push(reader);
    loops.push(read(reader, reading));
  }
  await sleep(50);
  await collect();
  const heapAfter = heapUsed();
  const rssAfter = process.memoryUsage.rss();
  const statsAfter = jsc?.heapStats();
  const bytesPerConnection = (heapAfter - heapBefore) / N;

  reading.delivered = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let b = 1; b <= BROADCASTS; b++) {
    await impl.broadcast(1000 + b);
    await untilDelivered(reading, b * N);
  }
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const deliveries = BROADCASTS * N;
  console.log(
    `${name.padEnd(8)} heap ${bytesPerConnection.toFixed(0).padStart(5)} B/connection, RSS ${
      ((rssAfter - rssBefore) / N).toFixed(0).padStart(5)
    } B/connection (web objects live outside the heap on Bun), ` +
      `CPU ${((cpu.user + cpu.system) / deliveries).toFixed(2)} µs/delivery, ` +
      `wall ${(elapsedMs * 1000 / deliveries).toFixed(2)} µs/delivery`,
  );
  if (statsBefore && statsAfter) {
    const diff = objectsDiff(statsBefore, statsAfter, N);
    console.log(
      `         objects per connection: ${
        diff.map(([type, count]) => `${type} ${count.toFixed(1)}`).join(", ")
      }`,
    );
  }
  for (const reader of readers) await reader.cancel().catch(() => {});
  await Promise.allSettled(loops);
  impl.dispose();
  await collect();
}
process.exit(0);
