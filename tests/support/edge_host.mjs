// Serves a bundled script inside Vercel's Edge runtime as the `edge-runtime` package emulates it,
// on 127.0.0.1. Run by Node (the package needs node:vm):
//   node tests/support/edge_host.mjs <bundle.js> <port>
// The environment variables named in HERALD_EDGE_ENV (a JSON object) become `process.env` inside
// the runtime, as Vercel exposes them. SIGTERM closes the server.
import { readFileSync } from "node:fs";
import { EdgeRuntime, runServer } from "edge-runtime";

const [bundle, port] = process.argv.slice(2);
const env = JSON.parse(process.env.HERALD_EDGE_ENV ?? "{}");
const runtime = new EdgeRuntime({
  initialCode: readFileSync(bundle, "utf8"),
  extend: (context) => Object.assign(context, { process: { env } }),
});
const server = await runServer({ runtime, port: Number(port), host: "127.0.0.1" });
console.log(`edge-runtime serving ${bundle} on ${server.url}`);
const stop = () => {
  // Open event streams never finish on their own: don't wait for them.
  setTimeout(() => process.exit(0), 500).unref();
  server.close().finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
