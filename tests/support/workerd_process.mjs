// Starts and stops a local workerd serving one bundled module, on 127.0.0.1 and a free port.
// Plain JavaScript so that the Node test runner (tests/run.mjs) and the Deno/Bun suites share it.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = (name) => join(repo, "node_modules", ".bin", name);

/** A date at which every flag we rely on is on by default (nodejs_compat among them). */
export const COMPATIBILITY_DATE = "2026-11-01";

/**
 * Asks the OS for a free TCP port on 127.0.0.1.
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Waits until something accepts TCP connections on the port.
 * @param {number} port
 * @param {number} timeoutMs
 * @param {() => string | undefined} [failed] returns why to give up early (the process died)
 */
export async function waitForPort(port, timeoutMs, failed) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const why = failed?.();
    if (why) throw new Error(why);
    const open = await new Promise((done) => {
      const socket = createConnection({ port, host: "127.0.0.1" });
      socket.once("connect", () => {
        socket.destroy();
        done(true);
      });
      socket.once("error", () => done(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/**
 * Bundles a TypeScript module for workerd with the pinned Bun.
 * @param {string} entry path of the module
 * @param {string} outFile where to write the bundle
 */
export function bundleForWorkerd(entry, outFile) {
  mkdirSync(dirname(outFile), { recursive: true });
  const result = spawnSync(
    bin("bun"),
    [
      "build",
      entry,
      "--target=browser",
      "--format=esm",
      "--external",
      "node:*",
      "--outfile",
      outFile,
    ],
    { encoding: "utf8" },
  );
  if (result.status !== 0) {
    throw new Error(`bundling ${entry} for workerd failed:\n${result.stdout}\n${result.stderr}`);
  }
  return outFile;
}

/**
 * Serves a bundled ES module with the pinned workerd binary.
 * `allowLocalFetch: true` lets the worker's `fetch` reach 127.0.0.1 and private addresses (workerd
 * refuses them by default): a network service allowing them becomes its global outbound.
 * @param {{ module: string, flags?: string[], bindings?: Record<string, string>, readyTimeoutMs?: number, allowLocalFetch?: boolean }} options
 * @returns {Promise<{ url: string, port: number, pid: number, output: () => string, stop: () => Promise<void> }>}
 */
export async function startWorkerd(options) {
  const port = await freePort();
  // workerd reads `embed` paths relative to the config file: keep both in one folder.
  const dir = dirname(resolve(options.module));
  const moduleName = basename(options.module);
  const flags = (options.flags ?? []).map((flag) => JSON.stringify(flag)).join(", ");
  const bindings = Object.entries(options.bindings ?? {})
    .map(([name, text]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(text)})`)
    .join(", ");
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)${
    options.allowLocalFetch ? `, (name = "loopback", network = (allow = ["private", "local"]))` : ""
  }],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = ${JSON.stringify(moduleName)}, esModule = embed ${
    JSON.stringify(moduleName)
  })],
  compatibilityDate = "${COMPATIBILITY_DATE}",
  compatibilityFlags = [${flags}],
  bindings = [${bindings}],${options.allowLocalFetch ? `\n  globalOutbound = "loopback",` : ""}
);
`;
  const configPath = join(dir, `${moduleName}.${port}.capnp`);
  writeFileSync(configPath, config);
  const child = spawn(bin("workerd"), ["serve", configPath, "--verbose"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let exited;
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  child.on("exit", (code, signal) => (exited = `workerd exited (${code ?? signal}):\n${output}`));
  try {
    await waitForPort(port, options.readyTimeoutMs ?? 15_000, () => exited);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: /** @type {number} */ (child.pid),
    output: () => output,
    stop: () =>
      new Promise((done) => {
        if (exited) return done();
        // workerd may ignore SIGTERM while requests are open: the SIGKILL must fire even when
        // nothing else keeps the event loop alive, so this timer is not unref'd.
        const kill = setTimeout(() => child.kill("SIGKILL"), 2000);
        child.once("exit", () => {
          clearTimeout(kill);
          done();
        });
        child.kill("SIGTERM");
      }),
  };
}
