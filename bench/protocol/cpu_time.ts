// CPU time per run, recorded beside the wall-clock time `measureGroup` takes. On a shared machine a
// run's wall-clock time includes time spent waiting for a core; the process's CPU time (user and
// system, every thread: the garbage collector's helpers too) does not, so its ratios hold steadier
// when other work comes and goes. Printed next to the wall-clock ratio the targets are judged by.
import { cpuUsage } from "node:process";
import type { Group } from "../support/measure.ts";

/** A group whose contenders record their CPU time per run, and the medians of the timed runs. */
export interface CpuRecording {
  group: Group;
  /** Median CPU ms of the last `runs` runs of a contender (the timed ones: they come last). */
  medianMs(name: string, runs: number): number;
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

/** Wraps every contender's `run` of `group` so that each run's CPU time is kept. */
export function recordCpu(group: Group): CpuRecording {
  const samples = new Map<string, number[]>();
  const contenders = group.contenders.map((contender) => {
    const kept: number[] = [];
    samples.set(contender.name, kept);
    return {
      ...contender,
      async run() {
        const started = nowCpuMs();
        const outcome = await contender.run();
        kept.push(nowCpuMs() - started);
        return outcome;
      },
    };
  });
  return {
    group: { ...group, contenders },
    medianMs(name, runs) {
      const kept = samples.get(name);
      if (!kept || kept.length < runs) throw new Error(`no ${runs} CPU samples for ${name}`);
      return median(kept.slice(-runs));
    },
  };
}
