#!/usr/bin/env node
// Runs the benchmarks (`npm run bench`): every entry below on its runtimes, one after the other
// (never side by side: they would time each other), each printing its own table. Output is also
// saved to bench/.out/<entry>-<runtime>.txt. Every bench prints its targets as lines
//   VERDICT <name> <ratio>x <op><target>x met|missed [note]
// (bench/support/verdict.ts); they are gathered into one closing table, also saved to
// bench/.out/verdicts.md. Exits non-zero if any benchmark failed (a contender that produced wrong
// output fails its benchmark); a missed target does not.
//
// Usage: node bench/run.mjs [--only deno,bun,node] [--filter protocol] [-- args for every bench]
//   e.g. node bench/run.mjs --only bun -- --runs 3 --scale 0.2
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(repo, "node_modules", ".bin", name);

// To add a benchmark: one line here. `file` is run by each runtime in `runtimes`, with `args`
// before the pass-through ones; an entry whose file does not exist (yet) is skipped.
const entries = [
  { name: "protocol", file: "bench/protocol.bench.ts", runtimes: ["deno", "bun"] },
  { name: "response", file: "bench/response.bench.ts", runtimes: ["deno", "bun"] },
  { name: "fanout", file: "bench/fanout.bench.ts", runtimes: ["deno", "bun"] },
  { name: "streams", file: "bench/streams.bench.ts", runtimes: ["deno", "bun"] },
  // REST traffic and Redis memory don't depend on the runtime of the isolates; one runtime keeps
  // the whole grid to a few minutes.
  { name: "scaling", file: "bench/scaling.bench.ts", runtimes: ["bun"] },
  // Writes its table into bench/README.md.
  { name: "bundle", file: "bench/bundle_size.mjs", runtimes: ["node"], args: ["--write"] },
];

// How each runtime runs a bench file. Not `--v8-flags=--expose-gc` on Deno: a forced full GC
// in V8 throws away optimised code, and the runs after it measured 3-10x slower (seen here).
const commands = {
  deno: (file, args) => [bin("deno"), ["run", "-A", file, ...args]],
  bun: (file, args) => [bin("bun"), ["run", file, ...args]],
  node: (file, args) => [process.execPath, [file, ...args]],
};

const argv = process.argv.slice(2);
const split = argv.indexOf("--");
const own = split === -1 ? argv : argv.slice(0, split);
const passThrough = split === -1 ? [] : argv.slice(split + 1);
const option = (name) => {
  const i = own.indexOf(name);
  return i === -1 ? undefined : own[i + 1];
};
const only = new Set((option("--only") ?? "deno,bun,node").split(","));
const filter = option("--filter") ?? "";

const outDir = join(repo, "bench", ".out");
mkdirSync(outDir, { recursive: true });

// The older target lines, `<label> (want >= 1.30x): small 0.94x MISSED, tokens 2.55x met`, are read
// only from a run that printed no VERDICT line, so a bench not yet moved to VERDICT lines still
// shows in the closing table.
const OLD_TARGET = /^\s*-?\s*(.+?) \(want ([<>]=?) ?([\d.]+)x\): (.+)$/;
const OLD_CELL = /(\S+) ([\d.]+)x (met|missed)/gi;
// VERDICT <name> <ratio> <target> met|missed [note]
const VERDICT = /^VERDICT\s+(\S+)\s+(\S+)\s+(\S+)\s+(met|missed)\b\s*(.*)$/i;
const verdicts = [];

/** Runs one bench, teeing its output to the terminal and a file; resolves with its exit code. */
function runOne(runtime, entry) {
  const [command, args] = commands[runtime](entry.file, [...(entry.args ?? []), ...passThrough]);
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
    let pending = "";
    let found = 0;
    const oldStyle = [];
    const collect = (text) => {
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop();
      for (const line of lines) {
        const match = VERDICT.exec(line.trim());
        if (match) {
          const [, name, ratio, target, result, note] = match;
          const verdict = { name, ratio, target, result: result.toLowerCase(), note };
          verdicts.push({ ...verdict, runtime, entry });
          found++;
          continue;
        }
        const old = OLD_TARGET.exec(line);
        if (!old) continue;
        const [, label, op, want, cells] = old;
        for (const [, key, ratio, result] of cells.matchAll(OLD_CELL)) {
          const what = label.toLowerCase().replaceAll(/[^a-z0-9]+/g, "_").slice(0, 48);
          const name = `${entry.name}.${what}.${key}.${runtime}`;
          const verdict = { name, ratio: `${ratio}x`, target: `${op}${want}x`, note: label };
          oldStyle.push({ ...verdict, result: result.toLowerCase(), runtime, entry });
        }
      }
    };
    child.stdout.on("data", (data) => {
      process.stdout.write(data);
      log.write(data);
      collect(data.toString());
    });
    child.stderr.on("data", (data) => {
      process.stdout.write(data);
      log.write(data);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      collect("\n");
      if (found === 0) verdicts.push(...oldStyle);
      log.end();
      console.log(`(saved to ${logFile.replace(repo + "/", "")})`);
      done(code ?? (signal ? 1 : 0));
    });
  });
}

const failures = [];
for (const entry of entries) {
  if (!entry.name.includes(filter)) continue;
  if (!existsSync(join(repo, entry.file))) {
    console.log(`\n(${entry.file} does not exist: skipped)`);
    continue;
  }
  for (const runtime of entry.runtimes) {
    if (!only.has(runtime)) continue;
    const code = await runOne(runtime, entry);
    if (code !== 0) failures.push(`${entry.name} on ${runtime} exited with ${code}`);
  }
}

// The closing table: every target of this run, met or missed.
if (verdicts.length > 0) {
  const missed = verdicts.filter((v) => v.result !== "met").length;
  const table = [
    "| bench | target | ratio | want | verdict | what |",
    "| --- | --- | ---: | ---: | --- | --- |",
    ...verdicts.map((v) =>
      `| ${v.entry.name} (${v.runtime}) | ${v.name} | ${v.ratio} | ${v.target} | ` +
      `${v.result === "met" ? "met" : "**missed**"} | ${v.note.replaceAll("|", "/")} |`
    ),
  ].join("\n");
  const summary = `${verdicts.length - missed} of ${verdicts.length} targets met, ${missed} missed`;
  console.log(`\n# Verdicts\n\n${table}\n\n${summary}`);
  writeFileSync(
    join(outDir, "verdicts.md"),
    `# Verdicts, ${new Date().toISOString()}\n\n${table}\n\n${summary}\n`,
  );
}
if (failures.length > 0) {
  console.error(`\nbenchmark failures:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
