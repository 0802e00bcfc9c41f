// Starts a throwaway redis-server for one test file: 127.0.0.1, a free port, no persistence.
// With REDIS_URL set, uses that server instead and starts nothing (then tests isolate themselves by
// key prefix, since other files share the database).
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import process from "node:process";
import { replyText, RespConnection } from "./resp_connection.ts";

/** A Redis the tests can use, from {@link startRedis}. */
export interface RedisProcess {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The redis-server's PID, or `undefined` when `REDIS_URL` named an existing server. */
  pid: number | undefined;
  /** Stops the redis-server this call started (SIGTERM, then SIGKILL); a no-op for `REDIS_URL`. */
  stop(): Promise<void>;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** Ignore `REDIS_URL` and always start a private server (for tests that FLUSHALL). */
  private?: boolean;
  /** How long to wait for the server to answer PING. Default 10 000 ms. */
  startTimeoutMs?: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ping(url: string): Promise<boolean> {
  let connection: RespConnection | undefined;
  try {
    connection = await RespConnection.connect(url, 1000);
    return replyText(await connection.command("PING")) === "PONG";
  } catch {
    return false; // not up yet: the caller polls until its deadline
  } finally {
    connection?.close();
  }
}

/**
 * Starts `redis-server --port <free> --bind 127.0.0.1 --save "" --appendonly no`, or uses
 * `REDIS_URL` when set (unless `options.private`). Resolves once the server answers PING.
 *
 * @example
 * ```ts
 * import { startRedis } from "./redis_process.ts";
 * const redis = await startRedis();
 * try {
 *   console.log(redis.url); // redis://127.0.0.1:40123
 * } finally {
 *   await redis.stop();
 * }
 * ```
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisProcess> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv && !options.private) {
    const port = Number(new URL(fromEnv).port || 6379);
    if (!(await ping(fromEnv))) {
      throw new Error(`REDIS_URL=${fromEnv} does not answer PING: start it, or unset REDIS_URL`);
    }
    return { url: fromEnv, port, pid: undefined, stop: () => Promise.resolve() };
  }
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  let lastError = "";
  // The free port may be taken between asking and binding: try a few ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const child = spawn("redis-server", [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "yes",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let exited: string | undefined;
    child.stdout?.on("data", (chunk: Uint8Array) => output = (output + chunk).slice(-4000));
    child.stderr?.on("data", (chunk: Uint8Array) => output = (output + chunk).slice(-4000));
    child.on("error", (error: Error) => exited = `could not start redis-server: ${error.message}`);
    child.on("exit", (code, signal) => exited = `redis-server exited (${code ?? signal})`);
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline && exited === undefined) {
      if (await ping(url)) {
        return { url, port, pid: child.pid, stop: () => stopChild(child) };
      }
      await sleep(50);
    }
    await stopChild(child);
    lastError = `${exited ?? `no PING answer within ${startTimeoutMs} ms`}\n${output}`;
    if (!/address already in use/i.test(output)) break;
  }
  throw new Error(`redis-server did not start: ${lastError}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
  await exited;
  clearTimeout(timer);
}
