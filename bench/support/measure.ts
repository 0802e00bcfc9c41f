// Shared benchmark machinery: interleaved runs, medians, ratios and one printed table per group.
// Any bench file can use it: build contenders, call `measureGroup`, print with `printGroup`.
// Timings on a shared machine are noisy, so: every contender is verified before it is timed (a
// broken contender can't look fast), contenders run round-robin (a burst of noise hits all of
// them, not one), and we report the median of several runs and ratios, not absolute numbers.

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
}

/** Options of {@link measureGroup}. */
export interface MeasureOptions {
  warmupRuns: number;
  runs: number;
}

const gc: (() => void) | undefined = (() => {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (typeof g.gc === "function") return g.gc;
  if (g.Bun) return () => g.Bun!.gc(true);
  return undefined;
})();

/**
 * Whether a full GC is forced between runs: on Bun (`Bun.gc`), and on V8 only if `gc` was exposed
 * by hand; bench/run.mjs doesn't expose it on Deno because V8's forced GC discards optimised code.
 */
export const canForceGc: boolean = gc !== undefined;

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

/** Verifies, warms up, then times every contender `runs` times, round-robin. */
export async function measureGroup(group: Group, options: MeasureOptions): Promise<Measured[]> {
  await checkOutcomes(group);
  const samples = group.contenders.map(() => [] as number[]);
  for (let round = 0; round < options.warmupRuns + options.runs; round++) {
    // Rotate the starting contender each round so none always runs right after a GC.
    for (let k = 0; k < group.contenders.length; k++) {
      const i = (k + round) % group.contenders.length;
      const contender = group.contenders[i];
      gc?.();
      const start = performance.now();
      const outcome = await contender.run();
      const elapsedMs = performance.now() - start;
      if (outcome.events !== group.events) {
        throw new Error(`${group.title}: ${contender.name} lost events in a timed run.`);
      }
      if (round >= options.warmupRuns) samples[i].push(elapsedMs);
    }
  }
  return group.contenders.map((contender, i) => ({
    name: contender.name,
    floor: contender.floor ?? false,
    note: contender.note,
    medianMs: median(samples[i]),
    samplesMs: samples[i],
  }));
}

/** `peer` time over `subject` time: above 1 means `subject` is that many times faster. */
export function speedup(results: Measured[], subject: string, peer: string): number {
  return find(results, peer).medianMs / find(results, subject).medianMs;
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
