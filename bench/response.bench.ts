// Response benchmark: events/s through an SSE endpoint to a real client over loopback, and idle
// memory per open connection, for Herald's sseResponse, Hono's streamSSE and a minimal
// hand-written ReadableStream server. Run it with the runtime to measure:
//   deno run -A bench/response.bench.ts [--runs 3] [--scale 1] [--only throughput,memory]
//   bun bench/response.bench.ts [...]
// Each server runs in its own process (bench/response/server.ts, same runtime), this process is
// the client: raw TCP sockets (node:net) that count events, so parsing costs the server nothing.
// Throughput runs round-robin over the implementations and reports medians; memory is the
// server's RSS (Linux /proc) after a warm-up (500 streams opened and closed), then after opening
// 1k and 10k idle streams: the growth divided by N.
// Targets, printed as VERDICT lines (bench/support/verdict.ts): Herald >= 2x Hono's events/s;
// Herald's memory per connection within 1.3x of the minimal server's. A missed target is
// reported, not fatal; a wrong event count is fatal.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BenchServer, startBenchServer } from "./support/loopback_server.ts";
import { verdict } from "./support/verdict.ts";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const g = globalThis as unknown as {
  Deno?: { args: string[]; execPath(): string };
  Bun?: unknown;
  process: { argv: string[]; execPath: string; exit(code: number): never };
};
const runtime = g.Deno ? "deno" : "bun";
const args = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const runs = Number(option("--runs", "3"));
const scale = Number(option("--scale", "1"));
const only = new Set(option("--only", "throughput,memory").split(","));
const IMPLS = ["herald", "hono", "minimal"] as const;
type Impl = typeof IMPLS[number];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Server = BenchServer;

/** Starts bench/response/server.ts with this runtime; resolves once it prints its port. */
function startServer(impl: Impl, workload: string, events: number, burst: number): Promise<Server> {
  const file = join(repo, "bench", "response", "server.ts");
  return startBenchServer(file, [impl, workload, String(events), String(burst)], impl, 20_000);
}

const REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" +
  "Connection: close\r\n\r\n";

/** Reads one whole stream over a raw socket; counts blank lines (event ends). */
function receive(port: number, timeoutMs: number): Promise<{ blocks: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let blocks = 0;
    let lastWasLF = false;
    let started = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`stream not finished after ${timeoutMs} ms (${blocks} events)`));
    }, timeoutMs);
    socket.on("connect", () => {
      started = performance.now();
      socket.write(REQUEST);
    });
    socket.on("data", (data: Uint8Array) => {
      // A blank line is two LFs in a row; the body's events are never split across HTTP chunks
      // here (each chunk holds whole events), so the chunk framing (CRLF) never separates them.
      let from = 0;
      if (lastWasLF && data[0] === 10) {
        blocks++;
        from = 1;
      }
      for (let i = data.indexOf(10, from); i !== -1; i = data.indexOf(10, i + 1)) {
        if (data[i + 1] === 10) {
          blocks++;
          i++;
        }
      }
      lastWasLF = data[data.length - 1] === 10 && data[data.length - 2] !== 10;
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ blocks, ms: performance.now() - started });
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface ThroughputResult {
  workload: string;
  impl: Impl;
  eventsPerSecond: number;
  samples: number[];
}

async function throughput(workload: "single" | "burst", events: number, burst: number) {
  const servers = new Map<Impl, Server>();
  const samples = new Map<Impl, number[]>(IMPLS.map((impl) => [impl, []]));
  try {
    for (const impl of IMPLS) servers.set(impl, await startServer(impl, workload, events, burst));
    // One warm-up each, then round-robin, so a burst of noise hits every contender alike.
    for (let run = -1; run < runs; run++) {
      for (const impl of IMPLS) {
        const { blocks, ms } = await receive(servers.get(impl)!.port, 120_000);
        const opening = impl === "hono" ? 0 : 1; // Herald and the minimal one start with a comment
        if (blocks - opening !== events) {
          throw new Error(
            `${impl} (${workload}) delivered ${blocks - opening} of ${events} events`,
          );
        }
        if (run >= 0) samples.get(impl)!.push(events / ms * 1000);
      }
    }
  } finally {
    for (const server of servers.values()) await server.stop();
  }
  return IMPLS.map((impl): ThroughputResult => ({
    workload,
    impl,
    eventsPerSecond: median(samples.get(impl)!),
    samples: samples.get(impl)!,
  }));
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Opens `count` idle streams; resolves once each has received its first bytes. */
async function openIdle(port: number, count: number, into: Socket[]): Promise<void> {
  const batch = 200;
  for (let opened = 0; opened < count;) {
    const n = Math.min(batch, count - opened);
    await Promise.all(Array.from({ length: n }, () =>
      new Promise<void>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1");
        const timer = setTimeout(() => reject(new Error("no first bytes within 20 s")), 20_000);
        socket.once("data", () => {
          clearTimeout(timer);
          resolve();
        });
        socket.on("data", () => {}); // keep-alives are read and dropped
        socket.on("error", reject);
        socket.write(REQUEST.replace("Connection: close\r\n", ""));
        into.push(socket);
      })));
    opened += n;
  }
}

async function settledRss(server: Server): Promise<number> {
  await sleep(500);
  await (await fetch(`http://127.0.0.1:${server.port}/gc`)).text();
  await sleep(500);
  return rssBytes(server.pid);
}

interface MemoryResult {
  impl: Impl;
  connections: number;
  bytesPerConnection: number;
}

async function memory(counts: number[]): Promise<MemoryResult[]> {
  const results: MemoryResult[] = [];
  for (const impl of IMPLS) {
    const server = await startServer(impl, "idle", 0, 0);
    const sockets: Socket[] = [];
    try {
      // Warm up: serve (and close) a few hundred streams first, so code compiled and pools grown
      // on first use are in the baseline, not divided among the measured connections.
      const warmup: Socket[] = [];
      await openIdle(server.port, 500, warmup);
      for (const socket of warmup) socket.destroy();
      await sleep(1_000);
      const base = await settledRss(server);
      for (const count of counts) {
        await openIdle(server.port, count - sockets.length, sockets);
        const rss = await settledRss(server);
        results.push({ impl, connections: count, bytesPerConnection: (rss - base) / count });
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      await server.stop();
    }
  }
  return results;
}

const format = (n: number) => Math.round(n).toLocaleString("en-US");
const report: Record<string, unknown> = { runtime, runs, scale };
let targetsMissed = 0;

console.log(`# Response benchmark on ${runtime} (runs: ${runs}, scale: ${scale})\n`);
if (only.has("throughput")) {
  const single = Math.round(100_000 * scale);
  const burstEvents = Math.round(500_000 * scale);
  const results = [
    ...await throughput("single", single, 1),
    ...await throughput("burst", burstEvents, 100),
  ];
  report.throughput = results;
  console.log("| workload | implementation | events/s (median) | vs Hono | vs minimal |");
  console.log("| --- | --- | ---: | ---: | ---: |");
  for (const r of results) {
    const of = (impl: Impl) =>
      results.find((x) => x.workload === r.workload && x.impl === impl)!.eventsPerSecond;
    console.log(
      `| ${r.workload} | ${r.impl} | ${format(r.eventsPerSecond)} | ` +
        `${(r.eventsPerSecond / of("hono")).toFixed(2)}x | ` +
        `${(r.eventsPerSecond / of("minimal")).toFixed(2)}x |`,
    );
  }
  for (const workload of ["single", "burst"]) {
    const herald = results.find((r) => r.workload === workload && r.impl === "herald")!;
    const hono = results.find((r) => r.workload === workload && r.impl === "hono")!;
    const ratio = herald.eventsPerSecond / hono.eventsPerSecond;
    const met = verdict(`response.events_per_s_vs_hono.${runtime}.${workload}`, ratio, ">=", 2);
    if (!met) targetsMissed++;
  }
  console.log("");
}
if (only.has("memory")) {
  const counts = [Math.round(1_000 * scale), Math.round(10_000 * scale)];
  const results = await memory(counts);
  report.memory = results;
  console.log("| implementation | connections | RSS delta per connection |");
  console.log("| --- | ---: | ---: |");
  for (const r of results) {
    console.log(`| ${r.impl} | ${format(r.connections)} | ${format(r.bytesPerConnection)} B |`);
  }
  for (const count of counts) {
    const of = (impl: Impl) =>
      results.find((r) => r.impl === impl && r.connections === count)!.bytesPerConnection;
    const ratio = of("herald") / of("minimal");
    const size = count % 1000 === 0 ? `${count / 1000}k` : String(count);
    const met = verdict(`response.memory_per_connection.${runtime}.${size}`, ratio, "<=", 1.3);
    if (!met) targetsMissed++;
    const vsHono = of("herald") / of("hono");
    if (!verdict(`response.memory_vs_hono.${runtime}.${size}`, vsHono, "<", 1)) targetsMissed++;
  }
}
const outFile = join(repo, "bench", ".out", `response-${runtime}.json`);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(report, null, 2));
console.log(`\n${targetsMissed === 0 ? "every target met" : `${targetsMissed} target(s) missed`}`);
console.log(`(results: ${outFile.replace(repo + "/", "")})`);
