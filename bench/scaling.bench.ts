// Scaling benchmark: the hub past one machine, on Upstash. Simulates 1, 10 and 100 isolates, each
// a hub over its own UpstashBroker with its own @upstash/redis client and token, against the
// Upstash REST test server in front of a private redis-server (bench/scaling/rest_process.ts, its
// own process). 10k readers (hub.subscribe streams) are spread over the isolates and over 100
// topics; a publisher publishes one event per call at 10, 100 and 1,000 events/s, round-robin over
// isolates and topics. Per point it measures, over a window of a few seconds:
// - commands per second by kind (publish, read, subscribe, ping, presence, stream, other), as
//   the REST server saw them, and HTTP requests per second (the client pipelines on its own);
// - deliveries per second and publish-to-reader latency p50/p99 (every delivery is checked);
// - CPU of this process (the isolates) and of the REST server, in cores.
// Then Redis memory per retained event (MEMORY USAGE of the topics' streams over their length) for
// three event sizes, and the model (bench/scaling/model.ts) against every measured point.
//   bun bench/scaling.bench.ts [--hubs 1,10,100] [--rates 10,100,1000] [--readers 10000]
//     [--topics 100] [--seconds 3] [--ping-ms 1000]
//   deno run -A bench/scaling.bench.ts [...]
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Redis } from "@upstash/redis";
import { createHub, type Hub } from "../mod.ts";
import { UpstashBroker } from "../src/adapters/upstash.ts";
import { replyText, RespConnection } from "../tests/support/resp_connection.ts";
import { type Kind, KINDS } from "./scaling/classify.ts";
import { deployment, load, setupCommands } from "./scaling/model.ts";
import { verdict } from "./support/verdict.ts";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno === "object";
const runtime = isDeno ? "deno" : "bun";
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const HUBS = option("--hubs", "1,10,100").split(",").map(Number);
const RATES = option("--rates", "10,100,1000").split(",").map(Number);
const READERS = Number(option("--readers", "10000"));
const TOPICS = Number(option("--topics", "100"));
const WINDOW_S = Number(option("--seconds", "3"));
const WARMUP_S = 1;
// Shorter than the broker's default (15 s) so pings show within a window of a few seconds; the
// model takes the interval as a parameter.
const PING_MS = Number(option("--ping-ms", "1000"));
const EVENT_DATA_BYTES = 200;
const MAX_IN_FLIGHT = 2_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// The REST server process.

interface RestStats {
  commands: Partial<Record<Kind, number>>;
  requests: Record<string, number>;
  details: Record<string, number>;
  tokensSeen: number;
  cpuUs: number;
  openSubscriptions: number;
}

interface Rest {
  url: string;
  redisUrl: string;
  tokens: string[];
  reset(): Promise<void>;
  stats(): Promise<RestStats>;
  stop(): Promise<void>;
}

async function startRest(isolates: number): Promise<Rest> {
  const file = join(repo, "bench", "scaling", "rest_process.ts");
  const [command, commandArgs] = isDeno
    ? [process.execPath, ["run", "-A", file, String(isolates)]]
    : [process.execPath, [file, String(isolates)]];
  const child: ChildProcess = spawn(command, commandArgs, {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines: Interface = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  let ready: ((line: string) => void) | undefined;
  lines.on("line", (line) => {
    if (line.startsWith("READY ")) ready?.(line.slice(6));
    else if (line.startsWith("STATS ") || line === "RESET") waiting.shift()?.(line);
  });
  const info = JSON.parse(
    await new Promise<string>((resolve, reject) => {
      ready = resolve;
      const timer = setTimeout(() => reject(new Error("REST server did not start")), 30_000);
      child.once("exit", (code) => reject(new Error(`REST server exited (${code})`)));
      lines.once("line", () => clearTimeout(timer));
    }),
  ) as { url: string; redisUrl: string; tokens: string[] };
  const ask = (line: string) =>
    new Promise<string>((resolve) => {
      waiting.push(resolve);
      child.stdin!.write(line + "\n");
    });
  return {
    ...info,
    async reset() {
      await ask("reset");
    },
    async stats() {
      return JSON.parse((await ask("stats")).slice(6));
    },
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.stdin!.write("stop\n");
        setTimeout(() => child.kill("SIGKILL"), 5_000);
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Readers: every delivery counted, latency recorded for the events of the measured window.

const window = { from: Infinity, to: Infinity, delivered: 0, latenciesMs: [] as number[] };

interface TickData {
  ts: number;
  n: number;
  pad: string;
}

async function readAll(reader: ReadableStreamDefaultReader<{ data?: unknown }>): Promise<void> {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    const data = value.data as TickData | undefined;
    if (data === undefined) continue; // the id-only start event
    if (data.n >= window.from && data.n < window.to) {
      window.delivered++;
      window.latenciesMs.push(performance.now() - data.ts);
    }
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

// ---------------------------------------------------------------------------------------------
// One configuration: H isolates, their readers, then each publish rate.

interface Point {
  isolates: number;
  targetRate: number;
  publishedPerSecond: number;
  skipped: number;
  publishErrors: number;
  commandsPerSecond: Record<Kind, number>;
  requestsPerSecond: number;
  requestsByKind: Record<string, number>;
  details: Record<string, number>;
  deliveriesPerSecond: number;
  delivered: number;
  expectedDeliveries: number;
  p50Ms: number;
  p99Ms: number;
  hubCpuCores: number;
  restCpuCores: number;
  /** The simulation could not keep up (this machine, not the design): the publisher fell behind
   * or latency grew past a second. Such a point's traffic includes the overload's side effects. */
  saturated: boolean;
}

interface Setup {
  isolates: number;
  readers: number;
  seconds: number;
  commands: Record<Kind, number>;
  requests: number;
}

const perSecond = (counts: Partial<Record<Kind, number>>, seconds: number) =>
  Object.fromEntries(KINDS.map((k) => [k, (counts[k] ?? 0) / seconds])) as Record<Kind, number>;
const allKinds = (counts: Partial<Record<Kind, number>>) =>
  Object.fromEntries(KINDS.map((k) => [k, counts[k] ?? 0])) as Record<Kind, number>;
const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

async function runConfiguration(rest: Rest, isolates: number): Promise<[Setup, Point[]]> {
  const prefix = `scale${isolates}`;
  const brokers = rest.tokens.slice(0, isolates).map((token) =>
    new UpstashBroker({
      redis: new Redis({ url: rest.url, token, enableTelemetry: false }),
      prefix,
      pingIntervalMs: PING_MS,
      maxEventsPerTopic: 1000,
    })
  );
  const hubs: Hub[] = brokers.map((broker) => createHub({ broker }));
  const readers: ReadableStreamDefaultReader<{ data?: unknown }>[] = [];
  const loops: Promise<void>[] = [];
  const readersPerTopic = new Array(TOPICS).fill(0);
  try {
    // Reader i: isolate i % H, topic floor(i / H) % T, so every isolate serves as many topics as
    // it can and every topic has N / T readers.
    await rest.reset();
    const setupStarted = performance.now();
    for (let i = 0; i < READERS; i += 250) {
      const batch = [];
      for (let k = i; k < Math.min(READERS, i + 250); k++) {
        const topic = Math.floor(k / isolates) % TOPICS;
        readersPerTopic[topic]++;
        batch.push(hubs[k % isolates].subscribe({ topics: [`t${topic}`] }));
      }
      for (const stream of await Promise.all(batch)) {
        const reader = stream.getReader() as ReadableStreamDefaultReader<{ data?: unknown }>;
        readers.push(reader);
        loops.push(readAll(reader));
      }
    }
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    const setupStats = await rest.stats();
    const setup: Setup = {
      isolates,
      readers: READERS,
      seconds: setupSeconds,
      commands: allKinds(setupStats.commands),
      requests: sum(setupStats.requests),
    };
    console.log(
      `${isolates} isolate(s): ${READERS} readers subscribed in ${setupSeconds.toFixed(1)} s, ` +
        `${sum(setup.commands)} commands (${
          KINDS.filter((k) => setup.commands[k]).map((k) => `${k} ${setup.commands[k]}`).join(", ")
        }), ${setup.requests} HTTP requests`,
    );

    const points: Point[] = [];
    let n = 0;
    /** Publishes one event per call at `rate`, round-robin over isolates and topics. */
    const startPublisher = (rate: number) => {
      let inFlight = 0;
      let stopped = false;
      const run = { published: 0, skipped: 0, errors: 0, seconds: 0, perTopic: [] as number[] };
      run.perTopic = new Array(TOPICS).fill(0);
      const started = performance.now();
      const loop = (async () => {
        let sent = 0;
        while (!stopped) {
          const due = Math.floor(rate * (performance.now() - started) / 1000);
          while (sent < due) {
            sent++;
            if (inFlight >= MAX_IN_FLIGHT) {
              run.skipped++;
              continue;
            }
            const seq = n++;
            const topic = seq % TOPICS;
            run.published++;
            run.perTopic[topic]++;
            inFlight++;
            const head = `{"ts":${performance.now()},"n":${seq},"pad":""}`;
            const data: TickData = {
              ts: performance.now(),
              n: seq,
              pad: "x".repeat(Math.max(0, EVENT_DATA_BYTES - head.length)),
            };
            hubs[seq % isolates].publish(`t${topic}`, { event: "tick", data }).then(
              () => inFlight--,
              () => {
                inFlight--;
                run.errors++;
              },
            );
          }
          await sleep(5);
        }
      })();
      return {
        /** Stops publishing; resolves once every publish made was answered (at most 15 s). */
        async stop() {
          stopped = true;
          run.seconds = (performance.now() - started) / 1000;
          await loop;
          const deadline = performance.now() + 15_000;
          while (inFlight > 0 && performance.now() < deadline) await sleep(5);
          return run;
        },
      };
    };
    for (const rate of RATES) {
      // Warm-up at the rate, then every publish of it finished: the window starts from a steady
      // state and counts only its own publishes.
      const warm = startPublisher(rate);
      await sleep(WARMUP_S * 1000);
      await warm.stop();
      await rest.reset();
      const restBefore = await rest.stats();
      const resetAt = performance.now();
      // Events numbered from..to are the measured ones: only they are expected and timed.
      window.from = n;
      window.to = Infinity;
      window.delivered = 0;
      window.latenciesMs = [];
      const cpuBefore = process.cpuUsage();
      const publisher = startPublisher(rate);
      await sleep(WINDOW_S * 1000);
      const run = await publisher.stop();
      window.to = n;
      const seconds = run.seconds;
      const cpuAfter = process.cpuUsage(cpuBefore);
      // Every publish of the window has been answered: its commands are all counted.
      const restAfter = await rest.stats();
      const countedSeconds = (performance.now() - resetAt) / 1000;
      const expected = run.perTopic.reduce((a, count, t) => a + count * readersPerTopic[t], 0);
      // Every measured event must reach every reader of its topic (deliveries still queued get
      // up to 15 s).
      const deadline = performance.now() + 15_000;
      while (window.delivered < expected && performance.now() < deadline) await sleep(20);
      const timed = perSecond(restAfter.commands, countedSeconds);
      const point: Point = {
        isolates,
        targetRate: rate,
        publishedPerSecond: run.published / seconds,
        skipped: run.skipped,
        publishErrors: run.errors,
        // Publishes per second of the window (all of them counted, answered after it or not);
        // the clock-driven kinds per second of the time counted.
        commandsPerSecond: { ...timed, publish: (restAfter.commands.publish ?? 0) / seconds },
        requestsPerSecond: sum(restAfter.requests) / countedSeconds,
        requestsByKind: restAfter.requests,
        details: restAfter.details,
        deliveriesPerSecond: window.delivered / seconds,
        delivered: window.delivered,
        expectedDeliveries: expected,
        p50Ms: percentile(window.latenciesMs, 0.5),
        p99Ms: percentile(window.latenciesMs, 0.99),
        hubCpuCores: (cpuAfter.user + cpuAfter.system) / 1e6 / countedSeconds,
        restCpuCores: (restAfter.cpuUs - restBefore.cpuUs) / 1e6 / countedSeconds,
        saturated: false,
      };
      const skipped = run.skipped;
      const errors = run.errors;
      point.saturated = skipped > 0 || point.publishedPerSecond < 0.9 * rate ||
        point.p50Ms > 1_000;
      points.push(point);
      const c = point.commandsPerSecond;
      console.log(
        `  ${String(rate).padStart(5)} ev/s target: published ${
          point.publishedPerSecond.toFixed(0)
        }/s` +
          `${skipped ? ` (${skipped} skipped: publisher saturated)` : ""}` +
          `${errors ? ` (${errors} publish errors)` : ""}; commands/s ${
            KINDS.filter((k) => c[k] > 0).map((k) => `${k} ${c[k].toFixed(1)}`).join(", ")
          }; HTTP ${point.requestsPerSecond.toFixed(1)}/s; ` +
          `${Math.round(point.deliveriesPerSecond).toLocaleString("en")} deliveries/s ` +
          `(${point.delivered}/${expected}); p50 ${point.p50Ms.toFixed(1)} ms, p99 ${
            point.p99Ms.toFixed(1)
          } ms; CPU hubs ${point.hubCpuCores.toFixed(2)}, REST ${
            point.restCpuCores.toFixed(2)
          } cores${
            point.saturated ? " (SATURATED: the simulation, not the design, fell behind)" : ""
          }`,
      );
    }
    return [setup, points];
  } finally {
    for (const reader of readers) await reader.cancel().catch(() => {});
    await Promise.allSettled(loops);
    for (const broker of brokers) broker.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Redis memory per retained event.

interface MemoryPoint {
  dataBytes: number;
  eventJsonBytes: number;
  events: number;
  bytesPerEvent: number;
}

async function memoryPerEvent(rest: Rest): Promise<MemoryPoint[]> {
  const redis = await RespConnection.connect(rest.redisUrl);
  const broker = new UpstashBroker({
    redis: new Redis({ url: rest.url, token: rest.tokens[0], enableTelemetry: false }),
    prefix: "memory",
    maxEventsPerTopic: 0,
  });
  const points: MemoryPoint[] = [];
  try {
    for (const dataBytes of [50, 200, 1000]) {
      const topic = `size${dataBytes}`;
      const events = 2_000;
      let eventJsonBytes = 0;
      for (let i = 0; i < events; i += 100) {
        const batch = Array.from({ length: 100 }, (_, k) => {
          const event = { event: "tick", data: { n: i + k, pad: "x".repeat(dataBytes) } };
          eventJsonBytes = JSON.stringify(event).length;
          return event;
        });
        await broker.publish(topic, batch);
      }
      const key = `memory:t:${topic}`;
      const bytes = Number(await redis.command("MEMORY", "USAGE", key, "SAMPLES", "0"));
      const length = Number(await redis.command("XLEN", key));
      points.push({ dataBytes, eventJsonBytes, events: length, bytesPerEvent: bytes / length });
    }
    const info = replyText(await redis.command("INFO", "memory"));
    const used = /used_memory:(\d+)/.exec(info)?.[1];
    console.log(
      `\nRedis memory per retained event (MEMORY USAGE / XLEN of a 2,000-event stream; ` +
        `used_memory now ${(Number(used) / 2 ** 20).toFixed(1)} MiB):`,
    );
    for (const p of points) {
      console.log(
        `  data ${p.dataBytes} B (event JSON ${p.eventJsonBytes} B): ${
          p.bytesPerEvent.toFixed(0)
        } B per event (${(p.bytesPerEvent - p.eventJsonBytes).toFixed(0)} B over its JSON)`,
      );
    }
  } finally {
    broker.close();
    redis.close();
  }
  return points;
}

// ---------------------------------------------------------------------------------------------
// The model against the measured points.

function checkModel(setups: Setup[], points: Point[]): boolean {
  console.log("\nmodel vs measured (commands per second by kind; setup: commands in total):");
  console.log("| isolates | phase | kind | predicted | measured | measured / predicted |");
  console.log("| ---: | --- | --- | ---: | ---: | ---: |");
  let worst = 1;
  const row = (
    isolates: number,
    phase: string,
    kind: string,
    predicted: number,
    measured: number,
    counts = true,
  ) => {
    const ratio = predicted === 0 ? (measured === 0 ? 1 : Infinity) : measured / predicted;
    // Judged: the commands made per operation (publish, read, subscribe), which the model must
    // get exactly. Shown only: pings, which follow a clock (timers run late on a loaded machine,
    // and a window of seconds holds a few pings per feed), rates under 1/s, saturated points.
    if (counts && kind !== "ping" && (predicted >= 1 || measured >= 1)) {
      worst = Math.max(worst, ratio >= 1 ? ratio : 1 / ratio);
    }
    console.log(
      `| ${isolates} | ${phase} | ${kind} | ${predicted.toFixed(1)} | ${measured.toFixed(1)} | ${
        Number.isFinite(ratio) ? ratio.toFixed(2) : "n/a"
      } |`,
    );
  };
  for (const setup of setups) {
    const predicted = setupCommands({
      isolates: setup.isolates,
      topicsPerIsolate: Math.min(TOPICS, Math.ceil(READERS / setup.isolates)),
      readers: setup.readers,
      feedPerReader: false,
    });
    for (const kind of KINDS) {
      // Pings run on a clock, not per subscription: compared in the steady state below.
      if (kind === "ping") continue;
      if (predicted[kind] || setup.commands[kind]) {
        row(setup.isolates, "setup", kind, predicted[kind], setup.commands[kind]);
      }
    }
  }
  for (const p of points) {
    const predicted = load(deployment({
      isolates: p.isolates,
      topics: TOPICS,
      publishesPerSecond: p.publishedPerSecond,
      readers: READERS,
      pingIntervalMs: PING_MS,
      // A ping goes the way an event goes (publish, subscribe stream): it takes as long.
      pingRoundTripMs: p.p50Ms,
    })).commandsPerSecond;
    for (const kind of KINDS) {
      if (predicted[kind] || p.commandsPerSecond[kind]) {
        const phase = `${p.targetRate} ev/s${p.saturated ? " (saturated)" : ""}`;
        row(p.isolates, phase, kind, predicted[kind], p.commandsPerSecond[kind], !p.saturated);
      }
    }
  }
  const met = worst <= 1.05;
  verdict(
    "scaling.model.commands_per_operation",
    worst,
    "<=",
    1.05,
    "measured/predicted, worst of publish/read/subscribe over the points that kept up",
  );
  return met;
}

// ---------------------------------------------------------------------------------------------

console.log(
  `# Scaling benchmark on ${runtime}: ${READERS} readers, ${TOPICS} topics, isolates ${
    HUBS.join("/")
  }, publish rates ${RATES.join("/")} events/s, ${WINDOW_S} s windows, pings every ${PING_MS} ms\n`,
);
const rest = await startRest(Math.max(...HUBS));
const setups: Setup[] = [];
const points: Point[] = [];
let memory: MemoryPoint[] = [];
try {
  for (const isolates of HUBS) {
    const [setup, measured] = await runConfiguration(rest, isolates);
    setups.push(setup);
    points.push(...measured);
    // Let the idle feeds' streams close before the next configuration opens its own.
    await sleep(300);
  }
  memory = await memoryPerEvent(rest);
} finally {
  await rest.stop();
}

console.log(
  "\n| isolates | target ev/s | published ev/s | publish | read | subscribe | ping | " +
    "presence | stream | other | HTTP req/s | deliveries/s | p50 ms | p99 ms | CPU hubs + REST |",
);
console.log(
  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | " +
    "---: | ---: | ---: |",
);
for (const p of points) {
  const c = p.commandsPerSecond;
  console.log(
    `| ${p.isolates} | ${p.targetRate} | ${p.publishedPerSecond.toFixed(0)} | ${
      KINDS.map((k) => c[k].toFixed(1)).join(" | ")
    } | ${p.requestsPerSecond.toFixed(1)} | ${
      Math.round(p.deliveriesPerSecond).toLocaleString("en")
    }` +
      ` | ${p.p50Ms.toFixed(1)} | ${p.p99Ms.toFixed(1)} | ${p.hubCpuCores.toFixed(2)} + ${
        p.restCpuCores.toFixed(2)
      } |`,
  );
}
const lost = points.filter((p) => p.delivered < p.expectedDeliveries - p.publishErrors * 100);
checkModel(setups, points);

const outDir = join(repo, "bench", ".out");
mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, `scaling-${runtime}.json`),
  JSON.stringify({ runtime, READERS, TOPICS, WINDOW_S, PING_MS, setups, points, memory }, null, 2),
);
if (lost.length > 0) {
  console.error(`\n${lost.length} point(s) lost deliveries: the hub or broker is broken`);
  process.exit(1);
}
process.exit(0);
