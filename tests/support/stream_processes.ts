// Starts and stops the stream server processes of the e2e tests (tests/e2e/workers/
// stream_server.ts under Deno or Bun), and can freeze (SIGSTOP), thaw (SIGCONT) or kill (SIGKILL)
// them, as a platform would stall or lose an isolate.
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";

const bin = (name: string) => new URL(`../../node_modules/.bin/${name}`, import.meta.url).pathname;
const script = new URL("../e2e/workers/stream_server.ts", import.meta.url).pathname;

/** A running stream server process. */
export interface StreamProcess {
  /** "deno" or "bun". */
  runtime: "deno" | "bun";
  child: ChildProcess;
  pid: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** What it printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Whether it has exited. */
  readonly exited: boolean;
}

/** Starts `stream_server.ts` under `runtime` with `env`; resolves once it listens. */
export function startStreamProcess(
  runtime: "deno" | "bun",
  env: Record<string, string>,
  startTimeoutMs = 60_000,
): Promise<StreamProcess> {
  const command = runtime === "deno"
    ? [bin("deno"), "run", "-A", "--no-check", script]
    : [bin("bun"), script];
  const child = spawn(command[0], command.slice(1), {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let exited = false;
  let listening = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${runtime} stream server did not start:\n${output}`));
    }, startTimeoutMs);
    child.stdout!.on("data", (chunk) => {
      output = (output + chunk).slice(-20_000);
      const match = /listening (\d+)/.exec(output);
      if (match && !listening) {
        listening = true;
        clearTimeout(timer);
        resolve({
          runtime,
          child,
          pid: child.pid!,
          url: `http://127.0.0.1:${match[1]}`,
          output: () => output,
          get exited() {
            return exited;
          },
        });
      }
    });
    child.stderr!.on("data", (chunk) => (output = (output + chunk).slice(-20_000)));
    child.on("exit", (code, signal) => {
      exited = true;
      clearTimeout(timer);
      reject(new Error(`${runtime} stream server exited (${code ?? signal}):\n${output}`));
    });
  });
}

/** Stops a process this module started: SIGCONT (in case it is frozen), SIGTERM, then SIGKILL. */
export function stopStreamProcess(server: StreamProcess | undefined): Promise<void> {
  if (!server || server.exited) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => server.child.kill("SIGKILL"), 3_000);
    server.child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    signal(server, "SIGCONT");
    server.child.kill("SIGTERM");
  });
}

/** Kills a process this module started with SIGKILL, and waits for its exit. */
export function killStreamProcess(server: StreamProcess): Promise<void> {
  if (server.exited) return Promise.resolve();
  return new Promise((resolve) => {
    server.child.once("exit", () => resolve());
    server.child.kill("SIGKILL");
  });
}

/** Freezes (SIGSTOP) or thaws (SIGCONT) a process this module started. */
export function freezeStreamProcess(server: StreamProcess, frozen: boolean): void {
  signal(server, frozen ? "SIGSTOP" : "SIGCONT");
}

/**
 * Sends a signal by PID, not with `child.kill`: Deno's `ChildProcess.kill` records any signal it
 * sent as the way the child ended, so after a SIGSTOP it sends nothing more (no SIGCONT, no
 * SIGKILL) and never emits `exit` (seen with Deno 2.9.6).
 */
function signal(server: StreamProcess, name: "SIGSTOP" | "SIGCONT"): void {
  if (server.exited) return;
  try {
    process.kill(server.pid, name);
  } catch {
    // It exited between the check and the signal: nothing left to freeze or thaw.
  }
}
