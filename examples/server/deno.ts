// The reference server on Deno: `deno task start` (or `npm start`), on 127.0.0.1:8000 by default.
// Settings come from environment variables (README, "Reference server").
import { createApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import { hubFor } from "./hub_for.ts";

const config = loadConfig(Deno.env.toObject());
const { hub, brokerName } = hubFor(config);
const app = createApp({ config, hub, brokerName });

Deno.serve({
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
