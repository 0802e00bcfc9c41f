// Shared benchmark machinery: interleaved runs, medians, ratios and one printed table per group.
// Any bench file can use it: build contenders, call `measureGroup`, print with `printGroup`.
// Timings on a shared machine are noisy, so: every contender is verified before it is timed (a
// broken contender can't look fast), contenders run round-robin (a burst of noise hits all of
// them, not one), and we report the median of several runs and ratios, not absolute numbers.
//
// No collection is forced before a run, on any runtime. V8's gc() (with --expose-gc) throws
// optimised code away: the runs after it measured 3-10x slower. On Bun, `Bun.gc(true)` before each
// run had the same kind of effect: SSEEncoderStream over 64 KiB events took 210 ms a run after it
// and 35 ms without it, and a bare TransformStream (the floor) likewise, so the runs measured the
// runtime's recovery from the collection more than the contenders. What a run leaves for the
// collector is part of its cost, and the round-robin order spreads it over all contenders.
//
// The process's CPU time (user and system, every thread: the collector's helpers too) is recorded
// beside the wall-clock time of each run. On a shared machine wall-clock time includes waiting for
// a core and CPU time does not, so CPU-time ratios hold steadier when other work comes and goes.
import { cpuUsage } from "node:process";

/** What one run of a contender produced: enough to tell that it did the whole job. */
export interface Outcome {
  /** Events produced (parsers: dispatched; encoders: events found again in the output). */
  events: number;
  /** A digest of what was produced, compared across contenders (see `checkOutcomes`). */
  digest: string;
}

/** One implementation under test. `run` does the whole workload once. */
export interface Contender {
  name: string;
  /** The floor: the least work any implementation must do; ratios are taken against it. */
  floor?: boolean;
  /** Contenders whose digest can't match the others' (say why in `note`); events still must. */
  digestExempt?: boolean;
  note?: string;
  run(): Promise<Outcome> | Outcome;
  /** A slower run that records a full digest; `run` may only count. Defaults to `run`. */
  verify?(): Promise<Outcome> | Outcome;
}

/** A set of contenders doing the same job on the same workload. */
export interface Group {
  title: string;
  /** Bytes processed per run (parsers: input; encoders: output), for MB/s. */
  bytes: number;
  events: number;
  contenders: Contender[];
}

/** The measured result of one contender. */
export interface Measured {
  name: string;
  floor: boolean;
  note?: string;
  medianMs: number;
  samplesMs: number[];
  /** The median of the process's CPU time (user + system) per timed run. */
  cpuMedianMs: number;
}

/** Options of {@link measureGroup}. */
export interface MeasureOptions {
  warmupRuns: number;
  runs: number;
}

function nowCpuMs(): number {
  const { user, system } = cpuUsage();
  return (user + system) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Throws unless every contender produced the expected number of events and the same digest. */
export async function checkOutcomes(group: Group): Promise<void> {
  let reference: { name: string; digest: string } | undefined;
  for (const contender of group.contenders) {
    const outcome = await (contender.verify ?? contender.run)();
    if (outcome.events !== group.events) {
      throw new Error(
        `${group.title}: ${contender.name} produced ${outcome.events} events, expected ` +
          `${group.events}. A broken contender must not be timed.`,
      );
    }
    if (contender.floor || contender.digestExempt) continue;
    if (reference === undefined) reference = { name: contender.name, digest: outcome.digest };
    else if (outcome.digest !== reference.digest) {
      throw new Error(
        `${group.title}: ${contender.name} produced different data than ${reference.name}:\n` +
          `  ${outcome.digest.slice(0, 300)}\n  ${reference.digest.slice(0, 300)}`,
      );
    }
  }
}

/**
 * Verifies, warms up, then times every contender `runs` times, round-robin, recording wall-clock
 * and CPU time of each run. No collection is forced between runs (see the top of this file).
 */
export async function measureGroup(group: Group, options: MeasureOptions): Promise<Measured[]> {
  await checkOutcomes(group);
  const wall = group.contenders.map(() => [] as number[]);
  const cpu = group.contenders.map(() => [] as number[]);
  for (let round = 0; round < options.warmupRuns + options.runs; round++) {
    // Rotate the starting contender each round so none always runs first.
    for (let k = 0; k < group.contenders.length; k++) {
      const i = (k + round) % group.contenders.length;
      const contender = group.contenders[i];
      const cpuStart = nowCpuMs();
      const start = performance.now();
      const outcome = await contender.run();
      const elapsedMs = performance.now() - start;
      const cpuMs = nowCpuMs() - cpuStart;
      if (outcome.events !== group.events) {
        throw new Error(`${group.title}: ${contender.name} lost events in a timed run.`);
      }
      if (round >= options.warmupRuns) {
        wall[i].push(elapsedMs);
        cpu[i].push(cpuMs);
      }
    }
  }
  return group.contenders.map((contender, i) => ({
    name: contender.name,
    floor: contender.floor ?? false,
    note: contender.note,
    medianMs: median(wall[i]),
    samplesMs: wall[i],
    cpuMedianMs: median(cpu[i]),
  }));
}

/** `peer` time over `subject` time: above 1 means `subject` is that many times faster. */
export function speedup(results: Measured[], subject: string, peer: string): number {
  return find(results, peer).medianMs / find(results, subject).medianMs;
}

/** As {@link speedup}, in CPU time. */
export function cpuSpeedup(results: Measured[], subject: string, peer: string): number {
  return find(results, peer).cpuMedianMs / find(results, subject).cpuMedianMs;
}

/** `subject` time over the floor's time: 1.2 means 20% slower than the floor. */
export function overFloor(results: Measured[], subject: string): number {
  const floor = results.find((r) => r.floor);
  if (!floor) throw new Error("this group has no floor");
  return find(results, subject).medianMs / floor.medianMs;
}

function find(results: Measured[], name: string): Measured {
  const found = results.find((r) => r.name === name);
  if (!found) throw new Error(`no contender named ${name}`);
  return found;
}

const pad = (text: string, width: number) => text.padEnd(width);
const padLeft = (text: string, width: number) => text.padStart(width);

/**
 * Prints one group: per contender its median time, MB/s, events/s, time over the floor, and
 * for each `subject` its speedup over every other non-floor contender ("1.50x" = 1.5 times as
 * fast as that peer).
 */
export function printGroup(group: Group, results: Measured[], subjects: string[]): void {
  const floor = results.find((r) => r.floor);
  const nameWidth = Math.max(...results.map((r) => r.name.length)) + 2;
  console.log(`\n## ${group.title}`);
  console.log(
    `   ${(group.bytes / 1e6).toFixed(1)} MB, ${group.events} events per run; median of ` +
      `${results[0].samplesMs.length} runs`,
  );
  console.log(
    "   " + pad("contender", nameWidth) + padLeft("ms", 9) + padLeft("MB/s", 9) +
      padLeft("events/s", 12) + padLeft("x floor", 9),
  );
  for (const r of results) {
    const seconds = r.medianMs / 1000;
    console.log(
      "   " + pad(r.name, nameWidth) + padLeft(r.medianMs.toFixed(1), 9) +
        padLeft((group.bytes / 1e6 / seconds).toFixed(0), 9) +
        padLeft(Math.round(group.events / seconds).toLocaleString("en-US"), 12) +
        padLeft(floor ? (r.medianMs / floor.medianMs).toFixed(2) : "-", 9) +
        (r.note ? `   (${r.note})` : ""),
    );
  }
  for (const subject of subjects) {
    const ratios = results
      .filter((r) => !r.floor && r.name !== subject)
      .map((r) => `${speedup(results, subject, r.name).toFixed(2)}x ${r.name}`);
    if (ratios.length > 0) console.log(`   ${subject} speedup: ${ratios.join(", ")}`);
  }
}
