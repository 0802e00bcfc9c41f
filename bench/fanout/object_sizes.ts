// What the objects a hub subscriber holds cost on the heap, one kind at a time: N of each made and
// kept, the heap measured after a full GC, before and after. Prices the per-object accounting of
// bench/fanout/anatomy.ts, so each change proposed in bench/README.md has an expected saving.
//   bun bench/fanout/object_sizes.ts [--n 20000]
//   deno run -A --v8-flags=--expose-gc bench/fanout/object_sizes.ts [...]
import process from "node:process";

const args = process.argv.slice(2);
const nIndex = args.indexOf("--n");
const N = nIndex === -1 ? 20_000 : Number(args[nIndex + 1]);
const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Heap used and RSS after a full GC. Bun keeps web objects (AbortController, Request, Headers)
 * in native memory outside the JS heap: only RSS sees them. */
async function collect(): Promise<[number, number]> {
  for (let i = 0; i < 3; i++) {
    if (g.Bun) g.Bun.gc(true);
    else g.gc?.();
    await sleep(10);
  }
  const usage = process.memoryUsage();
  return [usage.heapUsed, usage.rss];
}

class Listener {
  handleEvent(): void {}
}

/** Each maker builds one instance of what is priced; whatever it returns is kept alive. */
const kinds: [string, () => unknown][] = [
  ["empty object {}", () => ({})],
  ["object with 8 fields", () => ({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8 })],
  ["empty array []", () => []],
  ["array of 1 string", () => ["0-0"]],
  ["closure over 2 values", () => {
    const a = {}, b = {};
    return () => [a, b];
  }],
  ["pending Promise + its resolve", () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return [promise, resolve];
  }],
  ["suspended async function (awaiting a pending promise)", () => {
    const pending = new Promise<void>(() => {});
    const run = async () => {
      await pending;
    };
    return run();
  }],
  ["AbortController", () => new AbortController()],
  ["AbortController + signal read + 1 listener (closure)", () => {
    const controller = new AbortController();
    const topics = ["all"];
    controller.signal.addEventListener("abort", () => void topics, { once: true });
    return controller;
  }],
  ["AbortSignal listener object (handleEvent) on a shared signal", () => {
    const listener = new Listener();
    shared.signal.addEventListener("abort", listener, { once: true });
    return listener;
  }],
  ["Request", () => new Request("http://bench/events")],
  ["Request + headers read", () => {
    const request = new Request("http://bench/events");
    request.headers.get("last-event-id");
    return request;
  }],
  ["string concatenation (cursor prefix + part, 40 chars)", () => "h1.ab12cd.t7." + String(n++)],
  [
    "ReadableStream (underlying source object, hwm 0)",
    () => new ReadableStream({ pull() {} }, { highWaterMark: 0 }),
  ],
];
const shared = new AbortController();
let n = 0;

console.log(`# Cost per object, ${N} kept of each, ${g.Bun ? "bun" : "deno"}: heap, RSS\n`);
const kept: unknown[] = new Array(N).fill(0);
for (const [name, make] of kinds) {
  const [heapBase, rssBase] = await collect();
  for (let i = 0; i < N; i++) kept[i] = make();
  const [heap, rss] = await collect();
  console.log(
    `${((heap - heapBase) / N).toFixed(0).padStart(6)} B ${
      ((rss - rssBase) / N).toFixed(0).padStart(6)
    } B  ${name}`,
  );
  kept.fill(0);
}
process.exit(0);
