// Fan-out benchmark: N = 1k and 10k SSE connections on loopback, 100 broadcasts of a
// 200-byte event, for Herald's hub (MemoryBroker, hub.response), Hono's streamSSE (a Set of
// writers) and a minimal hand-written broadcast server (a Set of stream controllers, the event
// encoded once: the floor). Run it with the runtime to measure:
//   deno run -A bench/fanout.bench.ts [--sizes 1000,10000] [--broadcasts 100] [--only herald,...]
//   bun bench/fanout.bench.ts [...]
// Each server runs in its own process (bench/fanout/server.ts, same runtime); this process is
// the load client: raw TCP sockets (node:net) that find each event's send time in its data.
// Reported per server and N: delivery latency p50/p99 (client receive time - server send time,
// both this machine's clock), deliveries/s (closed loop: a broadcast is sent when the previous
// one reached every connection), server CPU per delivery (user+system, process.cpuUsage), RSS
// per connection (after a GC, before vs. after opening N). Then, with the Upstash broker (the REST
// test server in front of a private redis-server), REST requests per publish and per isolate.
// Targets, printed as VERDICT lines (bench/support/verdict.ts): the hub's CPU per delivery at most
// 1.2x the minimal server's and its memory per connection at most 1.3x, at 1k and 10k; and ahead
// of Hono (below 1.0x) on both. Missed targets are reported, not fatal.
import { mkdirSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { type BenchServer, startBenchServer } from "./support/loopback_server.ts";
import { verdict } from "./support/verdict.ts";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno === "object";
const runtime = isDeno ? "deno" : "bun";
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const sizes = option("--sizes", "1000,10000").split(",").map(Number);
const broadcasts = Number(option("--broadcasts", "100"));
const IMPLS = option("--only", "herald,response,hono,minimal").split(",") as Impl[];
type Impl = "herald" | "response" | "hono" | "minimal" | "minimal-pull";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Server = BenchServer;

function startServer(impl: Impl): Promise<Server> {
  return startBenchServer(join(repo, "bench", "fanout", "server.ts"), [impl], impl, 30_000);
}

async function get(port: number, path: string, method = "GET"): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return await response.text();
}

interface Stats {
  rssBytes: number;
  cpuUs: number;
  connections: number;
}
async function stats(port: number): Promise<Stats> {
  return JSON.parse(await get(port, "/stats"));
}

/** Everything the client sockets share: delivery counts and latencies. */
const load = {
  delivered: 0,
  latenciesMs: [] as number[],
  recording: false,
};

const REQUEST = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
const MARK = '"ts":';

/** Opens one SSE connection; resolves when the response's first bytes arrived. */
function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let tail = "";
    let started = false;
    socket.setNoDelay(true);
    socket.on("connect", () => socket.write(REQUEST));
    socket.on("data", (data: Uint8Array) => {
      const now = performance.timeOrigin + performance.now();
      if (!started) {
        started = true;
        resolve(socket);
      }
      // latin1 is byte-for-byte: cheap, and the marker and the number are ASCII.
      const text = tail + (data as unknown as { toString(enc: string): string }).toString("latin1");
      let at = text.indexOf(MARK);
      let keep = Math.max(0, text.length - MARK.length);
      while (at !== -1) {
        const end = text.indexOf(",", at);
        if (end === -1) {
          keep = at;
          break;
        }
        load.delivered++;
        if (load.recording) load.latenciesMs.push(now - Number(text.slice(at + MARK.length, end)));
        keep = end;
        at = text.indexOf(MARK, end);
      }
      tail = text.slice(keep);
    });
    socket.on("error", (error) => {
      if (!started) reject(error);
    });
  });
}

async function openMany(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 250) {
    const batch = Math.min(250, count - i);
    sockets.push(...await Promise.all(Array.from({ length: batch }, () => open(port))));
  }
  return sockets;
}

async function closeAll(sockets: Socket[]): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await sleep(200);
}

async function waitFor(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(1);
  }
}

function percentile(values: number[], p: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

interface Result {
  impl: Impl;
  connections: number;
  p50Ms: number;
  p99Ms: number;
  deliveriesPerSecond: number;
  cpuUsPerDelivery: number;
  rssBytesPerConnection: number;
}

async function measure(impl: Impl, connections: number): Promise<Result> {
  const server = await startServer(impl);
  try {
    // Warm-up: JIT and allocator see the whole path once.
    const warm = await openMany(server.port, 200);
    for (let i = 0; i < 5; i++) await get(server.port, "/broadcast", "POST");
    await sleep(200);
    await closeAll(warm);
    await waitFor(() => true, "", 0);
    await get(server.port, "/gc");
    await sleep(300);
    const before = await stats(server.port);
    const sockets = await openMany(server.port, connections);
    await sleep(300);
    await get(server.port, "/gc");
    await sleep(300);
    const opened = await stats(server.port);
    if (opened.connections < connections) {
      throw new Error(`${impl}: ${opened.connections} of ${connections} connections open`);
    }
    load.delivered = 0;
    load.latenciesMs = [];
    load.recording = true;
    const cpuBefore = (await stats(server.port)).cpuUs;
    const started = performance.now();
    for (let b = 1; b <= broadcasts; b++) {
      await get(server.port, "/broadcast", "POST");
      await waitFor(
        () => load.delivered >= b * connections,
        `${impl} broadcast ${b} (${load.delivered}/${b * connections})`,
        60_000,
      );
    }
    const elapsedMs = performance.now() - started;
    const cpuAfter = (await stats(server.port)).cpuUs;
    load.recording = false;
    const deliveries = broadcasts * connections;
    if (load.delivered !== deliveries) {
      throw new Error(`${impl}: ${load.delivered} deliveries, expected ${deliveries}`);
    }
    await closeAll(sockets);
    return {
      impl,
      connections,
      p50Ms: percentile(load.latenciesMs, 0.5),
      p99Ms: percentile(load.latenciesMs, 0.99),
      deliveriesPerSecond: deliveries / (elapsedMs / 1000),
      // Includes serving the 100 /broadcast and 2 /stats requests: the same for every server.
      cpuUsPerDelivery: (cpuAfter - cpuBefore) / deliveries,
      rssBytesPerConnection: (opened.rssBytes - before.rssBytes) / connections,
    };
  } finally {
    await server.stop();
  }
}

/** Upstash: REST requests per publish and per isolate, with 1000 local subscribers. */
async function upstashCounts() {
  const { Redis } = await import("@upstash/redis");
  const { createHub } = await import("../mod.ts");
  const { UpstashBroker } = await import("../src/adapters/upstash.ts");
  const { startUpstashRestServer } = await import("../tests/support/upstash_rest_server.ts");
  const server = await startUpstashRestServer();
  const broker = new UpstashBroker({
    redis: new Redis({ url: server.url, token: server.token, enableTelemetry: false }),
    prefix: "bench",
  });
  try {
    const hub = createHub({ broker });
    server.resetCounters();
    const subscribers = 1000;
    const readers = [];
    for (let i = 0; i < subscribers; i++) {
      readers.push((await hub.subscribe({ topics: ["all"] })).getReader());
    }
    const subscribeRequests = server.counters.requests;
    const streams = server.counters.subscriptionsOpened;
    server.resetCounters();
    const publishes = 100;
    for (let n = 0; n < publishes; n++) {
      await hub.publish("all", Array.from({ length: 5 }, () => ({ data: "x".repeat(200) })));
    }
    // Every subscriber gets the id-only start and the 500 events.
    await Promise.all(readers.map(async (reader) => {
      for (let k = 0; k < 1 + publishes * 5; k++) await reader.read();
    }));
    const result = {
      subscribers,
      subscribeRequests,
      subscribeStreamsPerIsolate: streams,
      publishes,
      eventsPerPublish: 5,
      requestsPerPublish: server.counters.requests / publishes,
      commandsPerPublish: server.counters.commands / publishes,
      feed: broker.feedStats,
    };
    for (const reader of readers) await reader.cancel();
    return result;
  } finally {
    broker.close();
    await server.stop();
  }
}

const results: Result[] = [];
for (const connections of sizes) {
  for (const impl of IMPLS) {
    const result = await measure(impl, connections);
    results.push(result);
    console.log(
      `${runtime} ${impl.padEnd(8)} N=${String(connections).padStart(5)}  ` +
        `p50 ${result.p50Ms.toFixed(1)} ms  p99 ${result.p99Ms.toFixed(1)} ms  ` +
        `${Math.round(result.deliveriesPerSecond).toLocaleString("en")} deliveries/s  ` +
        `${result.cpuUsPerDelivery.toFixed(2)} µs CPU/delivery  ` +
        `${(result.rssBytesPerConnection / 1024).toFixed(1)} KiB/connection`,
    );
  }
}

console.log("\ntargets (ratios of this run's medians):");
const sizeName = (n: number) => n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
for (const connections of sizes) {
  const of = (impl: Impl) => results.find((r) => r.impl === impl && r.connections === connections);
  const herald = of("herald");
  const minimal = of("minimal");
  const hono = of("hono");
  const at = `${runtime}.${sizeName(connections)}`;
  if (herald && minimal) {
    verdict(
      `fanout.cpu_per_delivery.${at}`,
      herald.cpuUsPerDelivery / minimal.cpuUsPerDelivery,
      "<=",
      1.2,
      "hub/minimal",
    );
    verdict(
      `fanout.memory_per_connection.${at}`,
      herald.rssBytesPerConnection / minimal.rssBytesPerConnection,
      "<=",
      1.3,
      "hub/minimal",
    );
  }
  if (herald && hono) {
    verdict(
      `fanout.cpu_vs_hono.${at}`,
      herald.cpuUsPerDelivery / hono.cpuUsPerDelivery,
      "<",
      1,
      "hub/Hono streamSSE",
    );
    verdict(
      `fanout.memory_vs_hono.${at}`,
      herald.rssBytesPerConnection / hono.rssBytesPerConnection,
      "<",
      1,
      "hub/Hono streamSSE",
    );
  }
}

let upstash;
if (!args.includes("--no-upstash")) {
  upstash = await upstashCounts();
  console.log(
    `\nupstash: ${upstash.subscribers} local subscribers -> ${upstash.subscribeStreamsPerIsolate} ` +
      `subscribe stream(s) per isolate, ${upstash.subscribeRequests} requests to subscribe them ` +
      `(one EVAL each + one per topic per isolate + the stream); ` +
      `${upstash.requestsPerPublish} request(s) / ${upstash.commandsPerPublish} command(s) per ` +
      `publish of ${upstash.eventsPerPublish} events`,
  );
}

const outDir = join(repo, "bench", ".out");
mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, `fanout-${runtime}.json`),
  JSON.stringify({ runtime, broadcasts, results, upstash }, null, 2),
);
process.exit(0);
