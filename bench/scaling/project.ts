// Projections of the cost model (model.ts) for deployments too big to simulate here: the tables
// of docs/scaling.md come from this script.
//   deno run -A bench/scaling/project.ts     (or: bun bench/scaling/project.ts)
import { type Deployment, deployment, load, month } from "./model.ts";

interface Scenario {
  name: string;
  d: Deployment;
}

const million = 1_000_000;
// A server isolate (Deno, Bun) holding 10k readers; 10k topics of 100 readers each, spread at
// random, so an isolate's 10k readers touch about 63% of the topics (1 - e^-1).
const servers = {
  isolates: 100,
  topics: 10_000,
  topicsPerIsolate: 6_321,
  readers: million,
  eventBytes: 250,
};

const scenarios: Scenario[] = [
  {
    name: "1M readers, 100 server isolates, 100 publishes/s, readers reconnect every 10 min",
    d: deployment({ ...servers, publishesPerSecond: 100, readerLifetimeS: 600 }),
  },
  {
    name: "same, 1,000 publishes/s",
    d: deployment({ ...servers, publishesPerSecond: 1_000, readerLifetimeS: 600 }),
  },
  {
    name: "same, 1,000 publishes/s, streams cut every 300 s (Vercel-style maximum duration)",
    d: deployment({ ...servers, publishesPerSecond: 1_000, readerLifetimeS: 300 }),
  },
  {
    name: "same, 100 publishes/s, isolates restarted every hour (serverless recycling)",
    d: deployment({
      ...servers,
      publishesPerSecond: 100,
      readerLifetimeS: 600,
      feedLifetimeS: 3_600,
    }),
  },
  {
    name: "same as the second, with reader connects served by the isolate (5% of resumes read)",
    d: deployment({
      ...servers,
      publishesPerSecond: 1_000,
      readerLifetimeS: 600,
      readsPerReaderConnect: 0.05,
    }),
  },
  {
    name: "1M readers on Workers (a live feed per reader request), 100 publishes/s",
    d: deployment({
      ...servers,
      isolates: 1_000,
      publishesPerSecond: 100,
      readerLifetimeS: 600,
      feedPerReader: true,
    }),
  },
  {
    name: "AI answers: 100 isolates, 10 answers/s started, 20 s at 50 tokens/s, one reader " +
      "each, coalesceMs 20",
    d: deployment({
      ...servers,
      readers: 200,
      readerLifetimeS: 20,
      streamsStartedPerSecond: 10,
      streamSeconds: 20,
      tokensPerSecond: 50,
      isolatesReadingStreams: 100,
      eventBytes: 60,
    }),
  },
  {
    name: "same answers, coalesceMs 100, presenceIntervalMs 5000",
    d: deployment({
      ...servers,
      readers: 200,
      readerLifetimeS: 20,
      streamsStartedPerSecond: 10,
      streamSeconds: 20,
      tokensPerSecond: 50,
      coalesceMs: 100,
      isolatesReadingStreams: 100,
      presenceIntervalMs: 5_000,
      eventBytes: 60,
    }),
  },
];

const f = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

console.log(
  "| deployment | publish | read | subscribe | ping | stream | presence | commands/s | " +
    "commands/month | " +
    "$ commands | stream GB/month | $ bandwidth | one database? |",
);
console.log(
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
);
for (const { name, d } of scenarios) {
  const l = load(d);
  const m = month(d);
  const c = l.commandsPerSecond;
  console.log(
    `| ${name} | ${f(c.publish)} | ${f(c.read)} | ${f(c.subscribe, 1)} | ${f(c.ping, 1)} | ${
      f(c.stream)
    } | ${f(c.presence)} | ${f(l.totalCommandsPerSecond)} | ${f(m.commands / 1e9, 2)} B | ${
      f(m.dollarsForCommands)
    } | ${f(m.gigabytes)} | ${f(m.dollarsForBandwidth)} | ${
      m.fitsOneDatabase ? "yes" : "no (over 10k/s)"
    } |`,
  );
}
