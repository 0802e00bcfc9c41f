// Starts the reference server (examples/server) as a real process, the way a person runs it:
// `deno run examples/server/deno.ts`, `bun examples/server/bun.ts`, or the bundled worker under the
// pinned workerd. Used by tests/e2e/server*.test.ts (Deno and Bun hosts).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleForWorkerd, freePort, startWorkerd, waitForPort } from "./workerd_process.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = (name: string) => join(repo, "node_modules", ".bin", name);

/** Which build of the reference server to start; `edge` is the Vercel Edge entry under the
 * `edge-runtime` package (run by Node). */
export type ServerRuntime = "deno" | "bun" | "workerd" | "edge";

/** A running reference server. */
export interface ReferenceServer {
  runtime: ServerRuntime;
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  pid: number;
  /** Everything the process printed so far. */
  output(): string;
  /** The process's resident memory now, in bytes (Linux `/proc`; `undefined` elsewhere). */
  rssBytes(): number | undefined;
  /** Stops the process (SIGTERM, then SIGKILL after 2 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Options of {@link startReferenceServer}. */
export interface StartOptions {
  /** Environment variables of the server (strings; merged over HOST=127.0.0.1 and PORT). */
  env?: Record<string, string>;
  /** A fixed port (to restart a server where a page expects it); default a free one. Deno and
   * Bun only: workerd always takes a free one. */
  port?: number;
  /** How long to wait for the port to open. Default 30 s (a busy 2-core machine). */
  readyTimeoutMs?: number;
}

let bundled: string | undefined;
let bundledEdge: string | undefined;

/** The Vercel Edge entry as an IIFE script for edge-runtime, built once per test process. */
function edgeBundle(): string {
  if (bundledEdge) return bundledEdge;
  const out = join(repo, "tests", ".out", `reference-server-${process.pid}`, "edge.js");
  const result = spawnSync(bin("bun"), [
    "build",
    join(repo, "tests", "e2e", "workers", "server_edge.ts"),
    "--target=browser",
    "--format=iife",
    "--outfile",
    out,
  ], { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`bundling the edge entry failed:\n${result.stdout}\n${result.stderr}`);
  }
  bundledEdge = out;
  return out;
}

/** The worker bundle, built once per test process under tests/.out/. */
function workerBundle(): string {
  bundled ??= bundleForWorkerd(
    join(repo, "examples", "server", "worker.ts"),
    join(repo, "tests", ".out", `reference-server-${process.pid}`, "worker.js"),
  );
  return bundled;
}

function rssOf(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}

function stopChild(child: ChildProcess, exited: () => boolean): Promise<void> {
  return new Promise((done) => {
    if (exited()) return done();
    const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
    child.once("exit", () => {
      clearTimeout(timer);
      done();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Starts the reference server on 127.0.0.1 with the given runtime and environment.
 *
 * @example
 * ```ts
 * import { startReferenceServer } from "./reference_server.ts";
 * import assert from "node:assert/strict";
 * const server = await startReferenceServer("deno", { env: { HERALD_DEV_MODE: "true" } });
 * try {
 *   assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
 * } finally {
 *   await server.stop();
 * }
 * ```
 */
export async function startReferenceServer(
  runtime: ServerRuntime,
  options: StartOptions = {},
): Promise<ReferenceServer> {
  if (runtime === "workerd") {
    // workerd picks its own free port (the socket is in its config, not in PORT).
    const server = await startWorkerd({
      module: workerBundle(),
      flags: ["enable_request_signal"],
      bindings: { ...options.env },
      // The worker reaches loopback servers (a test Upstash REST server) only when allowed.
      allowLocalFetch: true,
      readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    });
    return { runtime, ...server, rssBytes: () => rssOf(server.pid) };
  }
  const port = options.port ?? await freePort();
  const env = { HOST: "127.0.0.1", PORT: String(port), ...options.env };
  const command = runtime === "deno"
    ? [bin("deno"), ["run", "--allow-net", "--allow-env", "examples/server/deno.ts"]] as const
    : runtime === "bun"
    ? [bin("bun"), ["examples/server/bun.ts"]] as const
    : ["node", ["tests/support/edge_host.mjs", edgeBundle(), String(port)]] as const;
  const child = spawn(command[0], [...command[1]], {
    cwd: repo,
    env: runtime === "edge"
      ? { ...process.env, HERALD_EDGE_ENV: JSON.stringify(options.env ?? {}) }
      : { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let exited: string | undefined;
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  child.on("exit", (code, signal) => {
    exited = `the ${runtime} reference server exited (${code ?? signal}):\n${output}`;
  });
  try {
    await waitForPort(port, options.readyTimeoutMs ?? 30_000, () => exited);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    runtime,
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    output: () => output,
    rssBytes: () => rssOf(child.pid!),
    stop: () => stopChild(child, () => exited !== undefined),
  };
}
