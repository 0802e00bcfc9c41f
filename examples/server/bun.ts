// The reference server on Bun: `bun examples/server/bun.ts`, on 127.0.0.1:8000 by default.
// Settings come from environment variables (README, "Reference server").
import { createApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import { hubFor } from "./hub_for.ts";

interface BunServer {
  port: number;
  requestIP(request: Request): { address: string } | null;
  // Bun closes connections idle for `idleTimeout` s (default 10); a quiet SSE stream is idle.
  timeout(request: Request, seconds: number): void;
}
interface BunGlobal {
  env: Record<string, string | undefined>;
  serve(options: {
    hostname: string;
    port: number;
    fetch(request: Request, server: BunServer): Response | Promise<Response>;
  }): BunServer;
}
const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;

const config = loadConfig(bun.env);
const { hub, brokerName } = hubFor(config);
const app = createApp({ config, hub, brokerName });

const server = bun.serve({
  hostname: config.host,
  port: config.port,
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
