// Streams benchmark: what a resumable model answer costs in broker requests, and how long a token
// takes from `out.write` to a reader, at coalesceMs 0, 20 and 50, on the MemoryBroker and on the
// UpstashBroker (the Upstash REST test server in its own process, bench/streams/rest_process.ts).
//
// One run: a producer (`hub.startStream`) writes N tokens at a steady pace, each carrying the time
// of its write; a reader follows the stream over HTTP on 127.0.0.1 (`hub.response` read by
// `connect()`) from the stream's cursor to its `herald.end`. On Upstash the producer and the reader
// are two hubs with their own broker and token, as two isolates would be, and the REST server
// counts each one's requests. On the MemoryBroker the broker's method calls are counted.
//
// The baseline is resumable-stream's design, computed: the producer keeps the stream in its
// memory and PUBLISHes every chunk to every follower (a reader on another instance), so N tokens
// cost N × followers publishes, plus a few requests per follower to join. Every token is checked
// to arrive once and in order: a run that loses one fails.
//   bun bench/streams.bench.ts [--tokens 1000] [--pace-ms 2] [--coalesce 0,20,50]
//     [--brokers memory,upstash] [--followers 1,3] [--runs 2]
//   deno run -A bench/streams.bench.ts [...]
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Redis } from "@upstash/redis";
import { type Broker, connect, createHub, type Hub, MemoryBroker } from "../mod.ts";
import { UpstashBroker } from "../src/adapters/upstash.ts";
import { serve } from "../tests/support/serve.ts";
import { verdict } from "./support/verdict.ts";

const here = dirname(fileURLToPath(import.meta.url));
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno === "object";
const runtimeName = isDeno ? "deno" : "bun";
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const TOKENS = Number(option("--tokens", "1000"));
const PACE_MS = Number(option("--pace-ms", "2"));
const COALESCE = option("--coalesce", "0,20,50").split(",").map(Number);
const BROKERS = option("--brokers", "memory,upstash").split(",");
const FOLLOWERS = option("--followers", "1,3").split(",").map(Number);
const RUNS = Number(option("--runs", "2"));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Requests per follower to join a resumable-stream: the resume request, SUBSCRIBE, the replay. */
const BASELINE_JOIN_REQUESTS = 3;
/** resumable-stream's requests for N chunks and F followers: one PUBLISH per chunk per follower. */
const baselineRequests = (tokens: number, followers: number) =>
  tokens * followers + BASELINE_JOIN_REQUESTS * followers;

// ---------------------------------------------------------------------------------------------
// Counting the brokers' requests.

/** A MemoryBroker whose method calls are counted: each is what a remote store would be asked. */
function countingMemoryBroker(): { broker: Broker; calls: () => number } {
  const target = new MemoryBroker({ maxEventsPerTopic: 100_000 });
  let calls = 0;
  const broker = new Proxy(target, {
    get(object, name) {
      const value = Reflect.get(object, name, object);
      if (typeof value !== "function") return value;
      return (...callArgs: unknown[]) => {
        calls++;
        return value.apply(object, callArgs);
      };
    },
  });
  return { broker: broker as Broker, calls: () => calls };
}

interface Rest {
  url: string;
  requests(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

async function startRest(tokens: string[]): Promise<Rest> {
  const file = join(here, "streams", "rest_process.ts");
  const [command, commandArgs] = isDeno
    ? [process.execPath, ["run", "-A", file, ...tokens]]
    : [process.execPath, [file, ...tokens]];
  const child: ChildProcess = spawn(command, commandArgs, { stdio: ["pipe", "pipe", "inherit"] });
  const lines: Interface = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  lines.on("line", (line) => waiting.shift()?.(line));
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the REST process did not answer")), 60_000);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  const ready = await nextLine();
  if (!ready.startsWith("READY ")) throw new Error(`the REST process said: ${ready}`);
  const { url } = JSON.parse(ready.slice(6)) as { url: string };
  return {
    url,
    async requests() {
      child.stdin!.write("stats\n");
      const line = await nextLine();
      return (JSON.parse(line.slice(6)) as { requests: Record<string, number> }).requests;
    },
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin!.write("stop\n");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One run.

interface RunResult {
  producerRequests: number;
  readerRequests: number;
  latenciesMs: number[];
  producedMs: number;
}

interface Setup {
  producer: Hub;
  reader: Hub;
  /** Requests so far by the producer's and by the reader's isolate. */
  requests(): Promise<{ producer: number; reader: number }>;
}

async function runOnce(setup: Setup, topic: string, coalesceMs: number): Promise<RunResult> {
  const server = await serve(
    (request) => setup.reader.response(request, { topics: [topic], keepAliveMs: 5_000 }),
    { bunIdleTimeoutSeconds: 0 },
  );
  try {
    const before = await setup.requests();
    let producedMs = 0;
    let produced: () => void = () => {};
    const producing = new Promise<void>((resolve) => (produced = resolve));
    const startedMs = performance.now();
    const { started, cursor } = await setup.producer.startStream<
      { token: { text: string; t: number } }
    >(topic, async (out) => {
      try {
        for (let i = 0; i < TOKENS; i++) {
          if (out.signal.aborted) return;
          // Token i is due (i + 1) × PACE_MS after the start: a late timer writes the tokens due
          // back to back, as a model's burst, so every runtime's answer lasts as long.
          const waitMs = startedMs + (i + 1) * PACE_MS - performance.now();
          if (waitMs > 0) await sleep(waitMs);
          await out.write({ event: "token", data: { text: `t${i} `, t: performance.now() } });
        }
      } finally {
        producedMs = performance.now() - startedMs;
        produced();
      }
    }, { coalesceMs });
    if (!started) throw new Error(`${topic} was not started by this call`);
    const latenciesMs: number[] = [];
    let next = 0;
    let end: unknown;
    const connection = connect(server.url, { lastEventId: cursor, retry: { initialMs: 20 } });
    const deadline = setTimeout(() => connection.close(), 120_000);
    for await (const message of connection) {
      if (message.event === "token") {
        const { text, t } = JSON.parse(message.data) as { text: string; t: number };
        latenciesMs.push(performance.now() - t);
        if (text !== `t${next} `) throw new Error(`token ${next} expected, got ${text}`);
        next++;
      } else if (message.event === "herald.end") end = JSON.parse(message.data);
    }
    clearTimeout(deadline);
    await producing;
    if (next !== TOKENS || (end as { status?: string })?.status !== "done") {
      throw new Error(`got ${next} of ${TOKENS} tokens, end ${JSON.stringify(end)}`);
    }
    // Whatever the stream's last calls were (its end, the presence of the leaving reader).
    await sleep(1_200);
    const after = await setup.requests();
    return {
      producerRequests: after.producer - before.producer,
      readerRequests: after.reader - before.reader,
      latenciesMs,
      producedMs,
    };
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting.

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Row {
  broker: string;
  coalesceMs: number;
  producerPer1k: number;
  readerPer1k: number;
  p50: number;
  p99: number;
  producedS: number;
}

const rows: Row[] = [];

function record(broker: string, coalesceMs: number, results: RunResult[]): void {
  const per1k = (n: number) => (n * 1000) / TOKENS;
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[sorted.length >> 1];
  };
  const latencies = results.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  rows.push({
    broker,
    coalesceMs,
    producerPer1k: per1k(median(results.map((r) => r.producerRequests))),
    readerPer1k: per1k(median(results.map((r) => r.readerRequests))),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    producedS: median(results.map((r) => r.producedMs)) / 1000,
  });
}

function printTable(): void {
  console.log(
    `\n## streams (${runtimeName}): ${TOKENS} tokens, one due every ${PACE_MS} ms, ${RUNS} run(s) ` +
      "per row (medians; latency percentiles over every token of every run)",
  );
  const head = [
    "broker",
    "coalesceMs",
    "answer s",
    "producer req/1k",
    "reader req/1k",
    "p50 ms",
    "p99 ms",
    ...FOLLOWERS.map((f) => `baseline/${f}f`),
    ...FOLLOWERS.map((f) => `ratio ${f}f`),
  ];
  const widths = head.map((h) => Math.max(h.length, 9));
  const line = (cells: string[]) =>
    console.log("   " + cells.map((cell, i) => cell.padStart(widths[i])).join("  "));
  line(head);
  for (const row of rows) {
    const herald = row.producerPer1k + row.readerPer1k;
    const baselines = FOLLOWERS.map((f) => baselineRequests(1000, f));
    line([
      row.broker,
      String(row.coalesceMs),
      row.producedS.toFixed(2),
      row.producerPer1k.toFixed(0),
      // One isolate holds the producer and the reader on the MemoryBroker: one count for both.
      row.broker === "memory" ? "-" : row.readerPer1k.toFixed(0),
      row.p50.toFixed(1),
      row.p99.toFixed(1),
      ...baselines.map((b) => String(b)),
      ...baselines.map((b) => `${(b / herald).toFixed(1)}x`),
    ]);
  }
  console.log(
    "   req/1k: broker requests per 1,000 tokens (Upstash: HTTP requests at the REST server; " +
      "memory: broker method calls), by the producer's isolate and by the reader's isolate " +
      "(presence, live feed); Herald's cost does not grow with readers or reader isolates.\n" +
      "   baseline/Nf: resumable-stream's design with N followers (one PUBLISH per chunk per " +
      `follower, + ${BASELINE_JOIN_REQUESTS} per follower to join); ratio = baseline / Herald ` +
      "(producer + reader isolate). Its token latency is one PUBLISH away, as the coalesceMs 0 " +
      "row's.",
  );
  for (const row of rows) {
    if (row.broker !== "upstash") continue;
    verdict(
      `streams.requests.${runtimeName}.c${row.coalesceMs}`,
      baselineRequests(1000, 1) / (row.producerPer1k + row.readerPer1k),
      ">=",
      1,
      "resumable-stream (1 follower) requests over Herald's, per 1,000 tokens",
    );
  }
}

// ---------------------------------------------------------------------------------------------

let topicCount = 0;
const topicFor = (broker: string, coalesceMs: number) =>
  `bench.${broker}.${coalesceMs}.${++topicCount}.${Date.now()}`;

for (const brokerName of BROKERS) {
  if (brokerName === "memory") {
    for (const coalesceMs of COALESCE) {
      const results: RunResult[] = [];
      for (let run = 0; run < RUNS; run++) {
        const { broker, calls } = countingMemoryBroker();
        const hub = createHub({ broker });
        results.push(
          await runOnce(
            {
              producer: hub,
              reader: hub,
              requests: () => Promise.resolve({ producer: calls(), reader: 0 }),
            },
            topicFor("memory", coalesceMs),
            coalesceMs,
          ),
        );
      }
      record("memory", coalesceMs, results);
    }
  } else if (brokerName === "upstash") {
    const producerToken = `producer${crypto.randomUUID().replaceAll("-", "")}`;
    const readerToken = `reader${crypto.randomUUID().replaceAll("-", "")}`;
    const rest = await startRest([producerToken, readerToken]);
    try {
      const brokerFor = (token: string) =>
        new UpstashBroker({
          redis: new Redis({ url: rest.url, token, enableTelemetry: false }),
          prefix: "bench-streams",
        });
      for (const coalesceMs of COALESCE) {
        const results: RunResult[] = [];
        for (let run = 0; run < RUNS; run++) {
          const producerBroker = brokerFor(producerToken);
          const readerBroker = brokerFor(readerToken);
          try {
            results.push(
              await runOnce(
                {
                  producer: createHub({ broker: producerBroker }),
                  reader: createHub({ broker: readerBroker }),
                  async requests() {
                    const byToken = await rest.requests();
                    return {
                      producer: byToken[producerToken] ?? 0,
                      reader: byToken[readerToken] ?? 0,
                    };
                  },
                },
                topicFor("upstash", coalesceMs),
                coalesceMs,
              ),
            );
          } finally {
            producerBroker.close();
            readerBroker.close();
          }
        }
        record("upstash", coalesceMs, results);
      }
    } finally {
      await rest.stop();
    }
  } else {
    throw new Error(`unknown broker ${brokerName}: memory or upstash`);
  }
}
printTable();
process.exit(0);
