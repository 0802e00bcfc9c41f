// The two halves of a benchmark server process: `serveOnLoopback` inside the server script (prints
// "PORT <n>" once listening on 127.0.0.1), `startBenchServer` in the benchmark that spawns it with
// the runtime it runs on itself.
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";

type Handler = (request: Request) => Response | Promise<Response>;

const g = globalThis as unknown as {
  Deno?: {
    serve(
      options: { hostname: string; port: number; onListen(addr: { port: number }): void },
      handler: Handler,
    ): unknown;
  };
  Bun?: {
    serve(options: { hostname: string; port: number; idleTimeout: number; fetch: Handler }): {
      port: number;
    };
  };
};

/**
 * Serves `handler` on 127.0.0.1 and a free port with the runtime's own server, and prints
 * `PORT <n>`. Bun's idle timeout is off: benchmark connections are quiet on purpose.
 *
 * @example
 * ```ts ignore
 * serveOnLoopback(() => new Response("ok"));
 * ```
 */
export function serveOnLoopback(handler: Handler): void {
  if (g.Deno) {
    g.Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) => console.log(`PORT ${port}`),
    }, handler);
  } else {
    const server = g.Bun!.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, fetch: handler });
    console.log(`PORT ${server.port}`);
  }
}

/** A server process started by {@link startBenchServer}. */
export interface BenchServer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `file` (a script that calls {@link serveOnLoopback}) with the runtime running this
 * benchmark (Deno with `--expose-gc`, for its `/gc` route), and resolves once it printed its port.
 *
 * @example
 * ```ts ignore
 * const server = await startBenchServer("bench/fanout/server.ts", ["herald"], "herald", 30_000);
 * await server.stop();
 * ```
 */
export function startBenchServer(
  file: string,
  args: string[],
  label: string,
  startTimeoutMs: number,
): Promise<BenchServer> {
  // HERALD_BENCH_SERVER_FLAGS: extra runtime flags for the server process, to profile it, e.g.
  // `--cpu-prof-md --cpu-prof-dir=bench/.out/prof` (Bun) or `--v8-flags=--expose-gc,--prof`
  // (Deno; replaces the default V8 flags).
  const extra = (process.env.HERALD_BENCH_SERVER_FLAGS ?? "").split(" ").filter(Boolean);
  const v8Flags = extra.some((flag) => flag.startsWith("--v8-flags")) ? [] : [
    "--v8-flags=--expose-gc",
  ];
  const [command, commandArgs] = g.Deno
    ? [process.execPath, ["run", "-A", ...v8Flags, ...extra, file, ...args]]
    : [process.execPath, [...extra, file, ...args]];
  const child: ChildProcess = spawn(command, commandArgs, { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${label} server did not start: ${out}`));
    }, startTimeoutMs);
    child.on("exit", (code) => reject(new Error(`${label} server exited (${code}): ${out}`)));
    child.stdout!.on("data", (data: Uint8Array) => {
      out += new TextDecoder().decode(data);
      const match = /PORT (\d+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        port: Number(match[1]),
        pid: child.pid!,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 2_000);
          }),
      });
    });
  });
}
