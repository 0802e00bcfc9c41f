// How the protocol benchmark times its groups: like `measureGroup` (bench/support/measure.ts:
// verified first, round-robin rounds, medians) with two differences.
// - No forced collection before a run, on any runtime. bench/support does not force one on Deno
//   (V8's gc() discards optimised code); on Bun, `Bun.gc(true)` before each run had the same kind
//   of effect here: SSEEncoderStream over 64 KiB events took 210 ms a run after it and 35 ms
//   without it, and a bare TransformStream (the floor) likewise, so the runs measured the
//   runtime's recovery more than the contenders.
// - CPU time too. On a shared machine a run's wall-clock time includes waiting for a core; the
//   process's CPU time (user and system, every thread: the collector's helpers too) does not, so
//   its ratios hold steadier when other work comes and goes. The targets are judged on wall-clock
//   medians; the CPU-time ratio of the same runs is printed beside each.
import { cpuUsage } from "node:process";
import {
  checkOutcomes,
  type Group,
  type Measured,
  type MeasureOptions,
} from "../support/measure.ts";

/** A contender's wall-clock results, and the median of its CPU time per timed run. */
export interface TimedResult extends Measured {
  cpuMedianMs: number;
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

/** Verifies, warms up, then times every contender `runs` times, round-robin. */
export async function measureRuns(group: Group, options: MeasureOptions): Promise<TimedResult[]> {
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

/** `peer` CPU time over `subject` CPU time: above 1 means `subject` is that many times faster. */
export function cpuSpeedup(results: TimedResult[], subject: string, peer: string): number {
  const find = (name: string) => {
    const found = results.find((r) => r.name === name);
    if (!found) throw new Error(`no contender named ${name}`);
    return found.cpuMedianMs;
  };
  return find(peer) / find(subject);
}
