// The Upstash side of the scaling benchmark, in its own process (so its CPU is not the hubs'):
// a private redis-server behind the Upstash REST test server, accepting one token per simulated
// isolate, and counting every command by kind (see classify.ts).
//   <runtime> bench/scaling/rest_process.ts <isolates>
// Prints one line `READY {"url", "redisUrl", "tokens"}`, then answers lines on stdin:
//   reset  -> zeroes the counters, answers `RESET`
//   stats  -> answers `STATS {json}`: commands and HTTP requests by kind, requests per token,
//             this process's CPU time
//   stop   -> stops the server and Redis, exits
import process from "node:process";
import { createInterface } from "node:readline";
import { startUpstashRestServer } from "../../tests/support/upstash_rest_server.ts";
import { classifier, type Kind, loadKnownScripts } from "./classify.ts";

const isolates = Number(process.argv[2] ?? 1);
const tokens = Array.from(
  { length: isolates },
  (_, i) => `isolate-${i}-${crypto.randomUUID().slice(0, 8)}`,
);
const classify = classifier(await loadKnownScripts());

interface Counts {
  commands: Record<string, number>;
  /** HTTP requests by the kinds of the commands they carried ("publish", "publish+read", ...). */
  requests: Record<string, number>;
  /** Commands by detail ("EVAL PUBLISH_SCRIPT", "PUBLISH ping", "SUBSCRIBE", ...). */
  details: Record<string, number>;
  tokensSeen: number;
}
const fresh = (): Counts => ({ commands: {}, requests: {}, details: {}, tokensSeen: 0 });
let counts = fresh();
let tokensSeen = new Set<string>();

const server = await startUpstashRestServer({
  tokens,
  onRequest({ token, commands }) {
    const kinds = new Set<Kind>();
    for (const command of commands) {
      const [kind, detail] = classify(command);
      kinds.add(kind);
      counts.commands[kind] = (counts.commands[kind] ?? 0) + 1;
      counts.details[detail] = (counts.details[detail] ?? 0) + 1;
    }
    const key = [...kinds].sort().join("+");
    counts.requests[key] = (counts.requests[key] ?? 0) + 1;
    tokensSeen.add(token);
  },
});

console.log(`READY ${JSON.stringify({ url: server.url, redisUrl: server.redis.url, tokens })}`);

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = line.trim();
  if (command === "reset") {
    counts = fresh();
    tokensSeen = new Set();
    console.log("RESET");
  } else if (command === "stats") {
    const cpu = process.cpuUsage();
    console.log(`STATS ${
      JSON.stringify({
        ...counts,
        tokensSeen: tokensSeen.size,
        cpuUs: cpu.user + cpu.system,
        openSubscriptions: server.openSubscriptions,
      })
    }`);
  } else if (command === "stop") {
    break;
  }
}
await server.stop();
process.exit(0);
