// The reference server on Deno: `deno task start` (or `npm start`), on 127.0.0.1:8000 by default.
// Settings come from environment variables (docs/deploy.md). SIGTERM or SIGINT end every stream
// cleanly (clients reconnect and resume), then the process.
//
// Deno.serve (Deno 2.9) has no header-read or idle timeout and no option to set one: a client that
// trickles its request headers (slowloris) holds its socket as long as it likes. Exposed to a
// network, run this behind a reverse proxy that enforces one (docs/deploy.md).
import { createApp } from "./app.ts";
import { loadConfig, type ServerConfig } from "./config.ts";
import { ServerError } from "./errors.ts";
import { hubFor } from "./hub_for.ts";

/** How long open requests get to finish after a shutdown signal. */
const SHUTDOWN_GRACE_MS = 2000;

let config: ServerConfig;
try {
  config = loadConfig(Deno.env.toObject());
} catch (error) {
  if (!(error instanceof ServerError)) throw error;
  console.error(`herald: ${error.message}`);
  Deno.exit(1);
}
const { hub, brokerName } = await hubFor(config);
const shutdown = new AbortController();
const app = createApp({ config, hub, brokerName, signal: shutdown.signal });

const server = Deno.serve({
  hostname: config.host,
  port: config.port,
  onListen({ port }) {
    console.log(
      `Herald reference server on http://${config.host}:${port}/ (Deno, ${brokerName} broker` +
        `${config.devMode ? ", dev mode" : ""})`,
    );
  },
}, (request, info) => {
  const address = info.remoteAddr.transport === "tcp" ? info.remoteAddr.hostname : undefined;
  return app.fetch(request, { address });
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  try {
    Deno.addSignalListener(signal, () => {
      if (shutdown.signal.aborted) return;
      shutdown.abort();
      setTimeout(() => Deno.exit(0), SHUTDOWN_GRACE_MS);
      server.shutdown().then(() => Deno.exit(0));
    });
  } catch (error) {
    // Hosted platforms (Deno Deploy) may not offer signals: they stop isolates themselves.
    console.warn(
      `herald: no ${signal} handler (${
        (error as Error).message
      }); streams end when the platform stops the isolate`,
    );
  }
}
