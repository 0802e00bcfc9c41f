// The reference server on Bun: `npm run start:bun` (`bun examples/server/bun.ts`), on
// 127.0.0.1:8000 by default. Settings come from environment variables (docs/deploy.md). SIGTERM
// or SIGINT end every stream cleanly (clients reconnect and resume), then the process.
import { createApp } from "./app.ts";
import { loadConfig, type ServerConfig } from "./config.ts";
import { ServerError } from "./errors.ts";
import { hubFor } from "./hub_for.ts";

/** How long open requests get to finish after a shutdown signal. */
const SHUTDOWN_GRACE_MS = 2000;
/** A connection that sends nothing for this long is closed: a request whose headers or body
 * trickle in (slowloris) can't hold a socket. Event streams opt out (`holdOpen`). Bun's default
 * is the same; set here so it stays the guarantee docs/security.md describes. */
const IDLE_TIMEOUT_SECONDS = 10;

interface BunServer {
  port: number;
  requestIP(request: Request): { address: string } | null;
  // Bun closes connections idle for `idleTimeout` s (default 10); a quiet SSE stream is idle.
  timeout(request: Request, seconds: number): void;
  stop(closeActiveConnections?: boolean): Promise<void>;
}
interface BunGlobal {
  env: Record<string, string | undefined>;
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout: number;
    fetch(request: Request, server: BunServer): Response | Promise<Response>;
  }): BunServer;
}
interface BunProcess {
  on(signal: "SIGTERM" | "SIGINT", listener: () => void): void;
  exit(code: number): never;
}
const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
const bunProcess: BunProcess = (globalThis as unknown as { process: BunProcess }).process;

let config: ServerConfig;
try {
  config = loadConfig(bun.env);
} catch (error) {
  if (!(error instanceof ServerError)) throw error;
  console.error(`herald: ${error.message}`);
  bunProcess.exit(1);
}
const { hub, brokerName } = await hubFor(config);
const shutdown = new AbortController();
const app = createApp({ config, hub, brokerName, signal: shutdown.signal });

const server = bun.serve({
  hostname: config.host,
  port: config.port,
  idleTimeout: IDLE_TIMEOUT_SECONDS,
  fetch(request, server) {
    return app.fetch(request, {
      address: server.requestIP(request)?.address,
      holdOpen: () => server.timeout(request, 0),
    });
  },
});
console.log(
  `Herald reference server on http://${config.host}:${server.port}/ (Bun, ${brokerName} broker` +
    `${config.devMode ? ", dev mode" : ""})`,
);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  bunProcess.on(signal, () => {
    if (shutdown.signal.aborted) return;
    shutdown.abort();
    setTimeout(() => bunProcess.exit(0), SHUTDOWN_GRACE_MS);
    server.stop().then(() => bunProcess.exit(0));
  });
}
