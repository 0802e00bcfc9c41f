// The protocol benchmark of issue 2: Herald's parser and encoder against eventsource-parser,
// Hono's streamSSE writer and better-sse, on four workloads, in one process and one run.
// Prints one table per group, then the issue's targets as met or missed.
//
//   deno run -A bench/protocol.bench.ts [options]
//   bun bench/protocol.bench.ts [options]
//   (or `npm run bench`, which runs it on both)
//
// Options: --runs N (timed runs, default 7), --warmup N (default 2), --scale X (workload size,
// default 1 = the issue's sizes), --only small,tokens,big,crlf (workloads),
// --groups parse,text,stream,encode,encode-stream (which groups; default all).

import {
  canForceGc,
  type Group,
  type Measured,
  measureGroup,
  overFloor,
  printGroup,
  speedup,
} from "./support/measure.ts";
import * as encoders from "./protocol/encode_contenders.ts";
import { ENCODER } from "./protocol/encode_contenders.ts";
import * as parsers from "./protocol/parse_contenders.ts";
import { PARSER } from "./protocol/parse_contenders.ts";
import { buildWorkloads } from "./protocol/workloads.ts";

interface Target {
  label: string;
  /** The measured ratio per workload. */
  ratios: Map<string, number>;
  /** Whether a ratio meets the target. */
  meets(ratio: number): boolean;
  want: string;
}

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

const targets: Target[] = [
  {
    label: "createParser vs eventsource-parser createParser (bytes)",
    want: ">= 1.30x",
    ratios: new Map(),
    meets: (r) => r >= 1.3,
  },
  {
    label: "createParser over the floor (bytes)",
    want: "<= 1.30x",
    ratios: new Map(),
    meets: (r) => r <= 1.3,
  },
  {
    label: "SSEParserStream vs TextDecoderStream + EventSourceParserStream",
    want: ">= 1.30x",
    ratios: new Map(),
    meets: (r) => r >= 1.3,
  },
  {
    label: "SSEEncoderStream (writer) vs Hono writeSSE",
    want: ">= 1.50x",
    ratios: new Map(),
    meets: (r) => r >= 1.5,
  },
];

const started = performance.now();
console.log(
  `# Herald protocol benchmark on ${runtimeName()}: ${options.runs} timed runs after ` +
    `${options.warmupRuns} warm-up runs, median reported${canForceGc ? ", GC between runs" : ""}`,
);

const workloads = buildWorkloads(options.scale)
  .filter((w) => !options.only || options.only.includes(w.key));

async function run(group: Group, subjects: string[]): Promise<Measured[]> {
  const results = await measureGroup(group, options);
  printGroup(group, results, subjects);
  return results;
}

const groups = options.groups;
for (const workload of workloads) {
  if (groups.has("parse")) {
    const bytesResults = await run(parsers.syncBytesGroup(workload), [PARSER.herald]);
    targets[0].ratios.set(workload.key, speedup(bytesResults, PARSER.herald, PARSER.peer));
    targets[1].ratios.set(workload.key, overFloor(bytesResults, PARSER.herald));
  }
  if (groups.has("text")) await run(parsers.syncTextGroup(workload), [PARSER.herald]);
  if (groups.has("stream")) {
    const streamResults = await run(parsers.streamGroup(workload), [PARSER.heraldStream]);
    targets[2].ratios.set(
      workload.key,
      speedup(streamResults, PARSER.heraldStream, PARSER.peerStream),
    );
  }
  if (!workload.events) continue;
  const outputBytes = encoders.heraldOutputBytes(workload);
  if (groups.has("encode")) await run(encoders.syncGroup(workload, outputBytes), [ENCODER.herald]);
  if (groups.has("encode-stream")) {
    const encodeResults = await run(encoders.streamGroup(workload, outputBytes), [
      ENCODER.heraldStream,
      ENCODER.heraldPipe,
    ]);
    targets[3].ratios.set(workload.key, speedup(encodeResults, ENCODER.heraldStream, ENCODER.hono));
  }
}

console.log(`\n## Targets of issue 2 on ${runtimeName()} (ratios of medians, per workload)`);
let missed = 0;
for (const target of targets) {
  const cells = [...target.ratios].map(([key, ratio]) => {
    const ok = target.meets(ratio);
    if (!ok) missed++;
    return `${key} ${ratio.toFixed(2)}x ${ok ? "met" : "MISSED"}`;
  });
  console.log(`   ${target.label} (want ${target.want}): ${cells.join(", ")}`);
}
console.log(
  `\n${missed === 0 ? "all targets met" : `${missed} target cell(s) missed`} on ${runtimeName()} ` +
    `in ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
