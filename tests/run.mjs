#!/usr/bin/env node
// The whole test suite, as CI and the README run it:
//   static checks (deno fmt --check, deno lint, deno check of every entry point), then the ONE
//   shared suite under `deno test`, under `bun test` and inside workerd, then one closing line
//   `N passed, N failed` summed over the runtimes. Any failure exits non-zero.
//
// Usage: node tests/run.mjs [--only static,deno,bun,workerd,edge] [--filter text]
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBrowser } from "./support/ensure_browser.mjs";
import { startWorkerd } from "./support/workerd_process.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// One folder per run, so that runs side by side don't clobber each other's reports.
const out = join(repo, "tests", ".out", `run-${process.pid}`);
const bin = (name) => join(repo, "node_modules", ".bin", name);

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const only = new Set((option("--only") ?? "static,deno,bun,workerd,edge").split(","));
const filter = option("--filter") ?? "";

/** Runs a command, streaming its output; resolves with its exit code (killed after timeoutMs). */
function run(command, commandArgs, options = {}) {
  return runTimed(command, commandArgs, options).then((r) => r.code);
}

/** Like {@link run}, and says whether the command was killed for running past `timeoutMs`. */
function runTimed(command, commandArgs, { timeoutMs = 600_000, env = {} } = {}) {
  return new Promise((done) => {
    let timedOut = false;
    console.log(`\n$ ${[command.replace(repo + "/", ""), ...commandArgs].join(" ")}`);
    const child = spawn(command, commandArgs, {
      cwd: repo,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, ...env },
      detached: true,
    });
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\n!! ${command} ran past ${timeoutMs} ms: killed`);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch { /* already gone */ }
    }, timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      // Whatever the runner left behind in its process group goes with it.
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch { /* nothing left */ }
      done({ code: code ?? (signal ? 1 : 0), timedOut });
    });
  });
}

/** Counts leaf test cases in a JUnit report (describe blocks are not tests). */
function countJunit(file) {
  if (!existsSync(file)) return { passed: 0, failed: 0, skipped: 0, failures: [] };
  const xml = readFileSync(file, "utf8");
  const cases = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m; (m = re.exec(xml));) {
    const attrs = m[1];
    const body = m[3] ?? "";
    const name = /\bname="([^"]*)"/.exec(attrs)?.[1] ?? "?";
    const classname = /\bclassname="([^"]*)"/.exec(attrs)?.[1] ?? "";
    cases.push({
      name: decode(name),
      classname: decode(classname),
      failed: /<failure\b|<error\b/.test(body),
      skipped: /<skipped\b/.test(body),
    });
  }
  // Deno reports each describe block as a case named "a > b"; a case another case extends is a
  // group, not a test.
  const names = new Set(cases.map((c) => c.name));
  const isGroup = (c) => [...names].some((n) => n.startsWith(c.name + " > "));
  const leaves = cases.filter((c) => !isGroup(c));
  const failures = leaves.filter((c) => c.failed).map((c) => `${c.classname} ${c.name}`.trim());
  return {
    passed: leaves.filter((c) => !c.failed && !c.skipped).length,
    failed: failures.length,
    skipped: leaves.filter((c) => c.skipped).length,
    failures,
  };
}

function decode(text) {
  return text.replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

function testFiles() {
  const files = [];
  for (const dir of ["tests", "tests/e2e"]) {
    const abs = join(repo, dir);
    if (!existsSync(abs)) continue;
    for (const name of readdirSync(abs).sort()) {
      if (name.endsWith(".test.ts") && (dir + "/" + name).includes(filter)) {
        files.push(`${dir}/${name}`);
      }
    }
  }
  return files;
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const report = [];
function record(label, counts, exitCode, { expectTests = false } = {}) {
  let { passed, failed, skipped, failures } = counts;
  // A runtime that ran no test at all did not test anything: that is a failure, not a pass.
  if (expectTests && passed + failed === 0) {
    failed = 1;
    failures = [...failures, `${label} ran no test`];
  }
  // A runner that failed without a failing test (a crash, a load error) still fails the run.
  if (exitCode !== 0 && failed === 0) {
    failed = 1;
    failures = [...failures, `${label} runner exited with ${exitCode}`];
  }
  totals.passed += passed;
  totals.failed += failed;
  totals.skipped += skipped;
  report.push({ label, passed, failed, skipped, failures });
}

async function staticChecks() {
  const deno = bin("deno");
  const entries = JSON.parse(readFileSync(join(repo, "deno.json"), "utf8")).exports;
  const checks = [
    ["fmt", [deno, ["fmt", "--check"]]],
    ["lint", [deno, ["lint"]]],
    ["check", [deno, ["check", ...Object.values(entries), "examples", "bench", "tests"]]],
  ];
  for (const [label, [command, commandArgs]] of checks) {
    const code = await run(command, commandArgs, { timeoutMs: 300_000 });
    record(`deno ${label}`, {
      passed: code === 0 ? 1 : 0,
      failed: code === 0 ? 0 : 1,
      skipped: 0,
      failures: code === 0 ? [] : [`deno ${label}`],
    }, 0);
  }
}

/** Every JSDoc example in the library runs, as `deno test --doc` runs it. */
async function docExamples() {
  const junit = join(out, "doc.xml");
  const entries = JSON.parse(readFileSync(join(repo, "deno.json"), "utf8")).exports;
  const code = await run(bin("deno"), [
    "test",
    "--doc",
    "--allow-all",
    "--reporter=dot",
    `--junit-path=${junit}`,
    ...Object.values(entries), // each entry point's module documentation
    "src/",
    "examples/server/", // the reference server's modules carry runnable examples too
  ]);
  record("doc examples", countJunit(junit), code, { expectTests: true });
}

// The shared suite runs in one process per runtime; each e2e file in a process of its own, so that
// one hung file (a server that never answers, a child that never exits) costs at most
// E2E_FILE_TIMEOUT_MS and is named, instead of taking the whole run down with it. A file killed
// for hanging is run once more, and the output says so; a file that fails is not retried.
const E2E_FILE_TIMEOUT_MS = 300_000;
const SHARED_TIMEOUT_MS = 300_000;

function batches(files) {
  const shared = files.filter((f) => !f.startsWith("tests/e2e/"));
  const e2e = files.filter((f) => f.startsWith("tests/e2e/"));
  return [
    ...(shared.length ? [{ files: shared, timeoutMs: SHARED_TIMEOUT_MS }] : []),
    ...e2e.map((f) => ({ files: [f], timeoutMs: E2E_FILE_TIMEOUT_MS })),
  ];
}

async function runtimeSuite(label, files, commandFor) {
  const total = { passed: 0, failed: 0, skipped: 0, failures: [] };
  let exitCode = 0;
  for (const [i, batch] of batches(files).entries()) {
    const junit = join(out, `${label}-${i}.xml`);
    const [command, commandArgs] = commandFor(batch.files, junit);
    let result = await runTimed(command, commandArgs, { timeoutMs: batch.timeoutMs });
    if (result.timedOut) {
      console.error(`!! ${label}: ${batch.files.join(" ")} hung; running it once more`);
      rmSync(junit, { force: true });
      result = await runTimed(command, commandArgs, { timeoutMs: batch.timeoutMs });
    }
    const counts = countJunit(junit);
    if (result.code !== 0 && counts.failed === 0) {
      counts.failed = 1;
      counts.failures.push(`${batch.files.join(" ")} exited with ${result.code}`);
    }
    if (result.code !== 0) exitCode = result.code;
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
    total.failures.push(...counts.failures);
  }
  record(label, total, total.failed > 0 ? 0 : exitCode, { expectTests: files.length > 0 });
}

function denoSuite(files) {
  return runtimeSuite("deno", files, (batch, junit) => [bin("deno"), [
    "test",
    "--allow-all",
    "--no-check",
    "--reporter=dot",
    `--junit-path=${junit}`,
    ...batch,
  ]]);
}

function bunSuite(files) {
  return runtimeSuite("bun", files, (batch, junit) => [bin("bun"), [
    "test",
    "--timeout=120000",
    "--reporter=junit",
    `--reporter-outfile=${junit}`,
    ...batch.map((f) => "./" + f),
  ]]);
}

/** Prints a bundled suite's results and records them. */
function recordBundled(label, body, ok) {
  const results = body.results ?? [];
  const failed = results.filter((r) => r.status === "failed");
  for (const r of failed) console.log(`\n✗ [${label}] ${r.name}\n${r.error}`);
  const passed = results.filter((r) => r.status === "passed").length;
  console.log(`\n${label} (${body.runtime}): ${passed} passed, ${failed.length} failed`);
  record(
    label,
    {
      passed,
      failed: failed.length,
      skipped: results.filter((r) => r.status === "skipped").length,
      failures: failed.map((r) => r.name),
    },
    ok ? 0 : 1,
    { expectTests: true },
  );
}

/** The shared suite inside Vercel's Edge runtime, as the edge-runtime package emulates it. */
async function edgeSuite() {
  const dir = join(out, "edge");
  const filterArg = filter.replace(/^tests\//, "");
  const build = await run(bin("bun"), ["tests/workerd/build.ts", dir, filterArg, "--edge"]);
  if (build !== 0) return record("edge", { passed: 0, failed: 0, skipped: 0, failures: [] }, build);
  try {
    const { EdgeRuntime } = await import("edge-runtime");
    const runtime = new EdgeRuntime({ initialCode: readFileSync(join(dir, "edge.js"), "utf8") });
    const response = await runtime.dispatchFetch("http://127.0.0.1/run");
    recordBundled("edge", await response.json(), response.ok);
  } catch (error) {
    console.error(`edge suite could not run: ${error?.stack ?? error}`);
    record("edge", { passed: 0, failed: 0, skipped: 0, failures: [] }, 1);
  }
}

async function workerdSuite() {
  const dir = join(out, "workerd");
  const build = await run(bin("bun"), [
    "tests/workerd/build.ts",
    dir,
    filter.replace(/^tests\//, ""),
  ]);
  if (build !== 0) {
    return record("workerd", { passed: 0, failed: 0, skipped: 0, failures: [] }, build);
  }
  let server;
  try {
    server = await startWorkerd({ module: join(dir, "worker.js") });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 600_000);
    const response = await fetch(`${server.url}/run`, { signal: controller.signal });
    clearTimeout(timer);
    const body = await response.json();
    const results = body.results ?? [];
    const failed = results.filter((r) => r.status === "failed");
    for (const r of failed) console.log(`\n✗ [workerd] ${r.name}\n${r.error}`);
    console.log(
      `\nworkerd (${body.runtime}): ${
        results.filter((r) => r.status === "passed").length
      } passed, ` +
        `${failed.length} failed`,
    );
    record("workerd", {
      passed: results.filter((r) => r.status === "passed").length,
      failed: failed.length,
      skipped: results.filter((r) => r.status === "skipped").length,
      failures: failed.map((r) => r.name),
    }, response.ok ? 0 : 1);
  } catch (error) {
    console.error(`workerd suite could not run: ${error?.stack ?? error}`);
    if (server) console.error(server.output());
    record("workerd", { passed: 0, failed: 0, skipped: 0, failures: [] }, 1);
  } finally {
    await server?.stop();
  }
}

const started = Date.now();
mkdirSync(out, { recursive: true });
if (!existsSync(bin("deno")) || !existsSync(bin("bun")) || !existsSync(bin("workerd"))) {
  console.error("node_modules is missing the pinned runtimes: run `npm install` first.");
  process.exit(2);
}
const files = testFiles();
if (only.has("deno") || only.has("bun")) await ensureBrowser();
if (only.has("static")) await staticChecks();
if (only.has("static") && !filter) await docExamples();
if (only.has("deno")) await denoSuite(files);
if (only.has("bun")) await bunSuite(files);
// workerd and the Edge runtime run the shared suite only (tests/*.test.ts, not tests/e2e/).
const sharedFiles = files.filter((f) => !f.startsWith("tests/e2e/"));
if (only.has("workerd") && sharedFiles.length > 0) await workerdSuite();
if (only.has("edge") && sharedFiles.length > 0) await edgeSuite();

console.log("\n── summary " + "─".repeat(50));
for (const r of report) {
  console.log(`${r.label.padEnd(12)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  for (const f of r.failures) console.log(`    ✗ ${f}`);
}
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
if (totals.failed === 0) rmSync(out, { recursive: true, force: true });
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed === 0 ? 0 : 1);
