#!/usr/bin/env node
// Runs the benchmarks (`npm run bench`): every entry below on Deno and on Bun, one after the
// other (never side by side: they would time each other), each printing its own table. Output is
// also saved to bench/.out/<entry>-<runtime>.txt. Exits non-zero if any benchmark failed (a
// contender that produced wrong output fails its benchmark); a missed target does not.
//
// Usage: node bench/run.mjs [--only deno,bun] [--filter protocol] [-- args for every bench]
//   e.g. node bench/run.mjs --only bun -- --runs 3 --scale 0.2
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(repo, "node_modules", ".bin", name);

// To add a benchmark: one line here. `file` is run by each runtime in `runtimes`.
const entries = [
  { name: "protocol", file: "bench/protocol.bench.ts", runtimes: ["deno", "bun"] },
  { name: "response", file: "bench/response.bench.ts", runtimes: ["deno", "bun"] },
  { name: "fanout", file: "bench/fanout.bench.ts", runtimes: ["deno", "bun"] },
];

// How each runtime runs a bench file. Not `--v8-flags=--expose-gc` on Deno: a forced full GC
// in V8 throws away optimised code, and the runs after it measured 3-10x slower (seen here).
const commands = {
  deno: (file, args) => [bin("deno"), ["run", "-A", file, ...args]],
  bun: (file, args) => [bin("bun"), ["run", file, ...args]],
};

const argv = process.argv.slice(2);
const split = argv.indexOf("--");
const own = split === -1 ? argv : argv.slice(0, split);
const passThrough = split === -1 ? [] : argv.slice(split + 1);
const option = (name) => {
  const i = own.indexOf(name);
  return i === -1 ? undefined : own[i + 1];
};
const only = new Set((option("--only") ?? "deno,bun").split(","));
const filter = option("--filter") ?? "";

const outDir = join(repo, "bench", ".out");
mkdirSync(outDir, { recursive: true });

/** Runs one bench, teeing its output to the terminal and a file; resolves with its exit code. */
function runOne(runtime, entry) {
  const [command, args] = commands[runtime](entry.file, passThrough);
  const logFile = join(outDir, `${entry.name}-${runtime}.txt`);
  const log = createWriteStream(logFile);
  console.log(`\n$ ${[command.replace(repo + "/", ""), ...args].join(" ")}`);
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
    const timeoutMs = 20 * 60_000;
    const timer = setTimeout(() => {
      console.error(`!! ${entry.name} on ${runtime} ran past ${timeoutMs} ms: killed`);
      child.kill("SIGKILL");
    }, timeoutMs);
    for (const stream of [child.stdout, child.stderr]) {
      stream.on("data", (data) => {
        process.stdout.write(data);
        log.write(data);
      });
    }
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      log.end();
      console.log(`(saved to ${logFile.replace(repo + "/", "")})`);
      done(code ?? (signal ? 1 : 0));
    });
  });
}

const failures = [];
for (const entry of entries) {
  if (!entry.name.includes(filter)) continue;
  for (const runtime of entry.runtimes) {
    if (!only.has(runtime)) continue;
    const code = await runOne(runtime, entry);
    if (code !== 0) failures.push(`${entry.name} on ${runtime} exited with ${code}`);
  }
}
if (failures.length > 0) {
  console.error(`\nbenchmark failures:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
