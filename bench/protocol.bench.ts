// The protocol benchmark: Herald's parser and encoder against eventsource-parser, Hono's streamSSE
// writer and better-sse, on four workloads, in one process and one run. Prints one table per
// group, then one VERDICT line per target and workload (bench/support/verdict.ts):
//   - createParser at least 1.15x eventsource-parser's createParser (bytes in);
//   - SSEParserStream at least 1.15x TextDecoderStream + EventSourceParserStream;
//   - SSEEncoderStream (awaiting each write) at least 1.5x Hono's writeSSE.
// Each is judged on the ratio of wall-clock medians; the ratio of CPU-time medians of the same
// runs is printed beside it (steadier on a shared machine). Timed by bench/support/measure.ts (no
// forced collection before a run; see there why).
//
//   deno run -A bench/protocol.bench.ts [options]
//   bun bench/protocol.bench.ts [options]
//   (or `npm run bench`, which runs it on both)
//
// Options: --runs N (timed runs, default 7), --warmup N (default 2), --scale X (workload size,
// default 1 = the sizes in bench/README.md), --only small,tokens,big,crlf (workloads),
// --groups parse,text,stream,encode,encode-stream (which groups; default all).

import {
  cpuSpeedup,
  type Group,
  type Measured,
  measureGroup,
  printGroup,
  speedup,
} from "./support/measure.ts";
import { verdict } from "./support/verdict.ts";
import * as encoders from "./protocol/encode_contenders.ts";
import { ENCODER } from "./protocol/encode_contenders.ts";
import * as parsers from "./protocol/parse_contenders.ts";
import { PARSER } from "./protocol/parse_contenders.ts";
import { buildWorkload, WORKLOAD_KEYS } from "./protocol/workloads.ts";

interface Target {
  /** The VERDICT name's middle part: protocol.<key>.<workload>.<runtime>. */
  key: string;
  label: string;
  subject: string;
  peer: string;
  atLeast: number;
}

const TARGETS = {
  parse: {
    key: "parse",
    label: "createParser vs eventsource-parser createParser (bytes)",
    subject: PARSER.herald,
    peer: PARSER.peer,
    atLeast: 1.15,
  },
  stream: {
    key: "parse-stream",
    label: "SSEParserStream vs TextDecoderStream + EventSourceParserStream",
    subject: PARSER.heraldStream,
    peer: PARSER.peerStream,
    atLeast: 1.15,
  },
  encodeStream: {
    key: "encode-stream",
    label: "SSEEncoderStream (writer) vs Hono writeSSE",
    subject: ENCODER.heraldStream,
    peer: ENCODER.hono,
    atLeast: 1.5,
  },
} satisfies Record<string, Target>;

function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun) return `bun ${g.Bun.version}`;
  return "unknown runtime";
}

function parseArgs(args: string[]) {
  const value = (name: string) => {
    const i = args.indexOf(name);
    return i === -1 ? undefined : args[i + 1];
  };
  return {
    runs: Number(value("--runs") ?? 7),
    warmupRuns: Number(value("--warmup") ?? 2),
    scale: Number(value("--scale") ?? 1),
    only: value("--only")?.split(","),
    groups: new Set(
      (value("--groups") ?? "parse,text,stream,encode,encode-stream").split(","),
    ),
  };
}

const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
const options = parseArgs(g.Deno ? g.Deno.args : g.process?.argv.slice(2) ?? []);
const runtime = runtimeName().split(" ")[0];

interface Result {
  target: Target;
  workload: string;
  wall: number;
  cpu: number;
}
const results: Result[] = [];

const started = performance.now();
console.log(
  `# Herald protocol benchmark on ${runtimeName()}: ${options.runs} timed runs after ` +
    `${options.warmupRuns} warm-up runs, medians of wall-clock and CPU time, no forced GC`,
);

const keys = WORKLOAD_KEYS.filter((key) => !options.only || options.only.includes(key));

/** Measures and prints a group; with a target, keeps its wall-clock and CPU-time ratios. */
async function run(
  group: Group,
  subjects: string[],
  target?: { target: Target; workload: string },
): Promise<Measured[]> {
  const measured = await measureGroup(group, options);
  printGroup(group, measured, subjects);
  if (target) {
    const { subject, peer } = target.target;
    const cpu = cpuSpeedup(measured, subject, peer);
    console.log(`   ${subject} speedup in CPU time: ${cpu.toFixed(2)}x ${peer}`);
    results.push({ ...target, wall: speedup(measured, subject, peer), cpu });
  }
  return measured;
}

const groups = options.groups;

// First the groups with targets, then the others: what a group leaves behind carries into the
// next ones (on Deno the synchronous encoders' 200k ArrayBuffers a run then slowed every stream
// contender to ~4.5 µs an event, floor included, and pulled the ratios towards 1).
for (const key of keys) {
  // Built here and dropped at the end of the turn: only the workload measured is alive.
  let workload = buildWorkload(key, options.scale);
  if (groups.has("parse")) {
    await run(parsers.syncBytesGroup(workload), [PARSER.herald], {
      target: TARGETS.parse,
      workload: key,
    });
  }
  if (groups.has("stream")) {
    await run(parsers.streamGroup(workload), [PARSER.heraldStream], {
      target: TARGETS.stream,
      workload: key,
    });
  }
  if (!workload.events || !groups.has("encode-stream")) continue;
  // The encoders need only the events: let the wire form go before they run.
  workload = { ...workload, chunks: [], textChunks: [] };
  await run(
    encoders.streamGroup(workload, encoders.heraldOutputBytes(workload)),
    [ENCODER.heraldStream, ENCODER.heraldPipe],
    { target: TARGETS.encodeStream, workload: key },
  );
}

// Then the informational groups; better-sse's stream contender last of all: its writes queue
// without backpressure, and what that leaves in the heap slows whatever runs after it.
for (const key of keys) {
  const workload = buildWorkload(key, options.scale);
  if (groups.has("text")) await run(parsers.syncTextGroup(workload), [PARSER.herald]);
  if (!workload.events) continue;
  const outputBytes = encoders.heraldOutputBytes(workload);
  if (groups.has("encode")) await run(encoders.syncGroup(workload, outputBytes), [ENCODER.herald]);
}
if (groups.has("encode-stream")) {
  for (const key of keys) {
    const workload = buildWorkload(key, options.scale);
    if (!workload.events) continue;
    const outputBytes = encoders.heraldOutputBytes(workload);
    await run(encoders.streamGroup(workload, outputBytes, true), [ENCODER.heraldStream]);
  }
}

console.log(`\n## Targets on ${runtimeName()} (ratios of medians, per workload)`);
let missed = 0;
for (const { target, workload, wall, cpu } of results) {
  const met = verdict(
    `protocol.${target.key}.${workload}.${runtime}`,
    wall,
    ">=",
    target.atLeast,
    `${target.label}, wall-clock (CPU time: ${cpu.toFixed(2)}x)`,
  );
  if (!met) missed++;
}
console.log(
  `\n${missed === 0 ? "all targets met" : `${missed} target(s) missed`} on ${runtimeName()} ` +
    `in ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
