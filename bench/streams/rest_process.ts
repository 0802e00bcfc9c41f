// The Upstash side of the streams benchmark, in its own process (so its CPU and event loop are not
// the hubs'): a private redis-server behind the Upstash REST test server, counting HTTP requests
// and commands per client token.
//   <runtime> bench/streams/rest_process.ts <token> [<token> …]
// Prints one line `READY {"url"}`, then answers lines on stdin:
//   stats  -> `STATS {"requests": {token: n}, "commands": {token: n}}` (since start)
//   stop   -> stops the server and Redis, exits
import process from "node:process";
import { createInterface } from "node:readline";
import { startUpstashRestServer } from "../../tests/support/upstash_rest_server.ts";

const tokens = process.argv.slice(2);
if (tokens.length === 0) throw new Error("usage: rest_process.ts <token> [<token> …]");
const requests: Record<string, number> = {};
const commands: Record<string, number> = {};

const server = await startUpstashRestServer({
  token: tokens[0],
  tokens: tokens.slice(1),
  onRequest(request) {
    requests[request.token] = (requests[request.token] ?? 0) + 1;
    commands[request.token] = (commands[request.token] ?? 0) + request.commands.length;
  },
});
console.log(`READY ${JSON.stringify({ url: server.url })}`);

for await (const line of createInterface({ input: process.stdin })) {
  const command = line.trim();
  if (command === "stats") console.log(`STATS ${JSON.stringify({ requests, commands })}`);
  else if (command === "stop") break;
}
await server.stop();
process.exit(0);
