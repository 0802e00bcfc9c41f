// Bundles the shared suite (tests/*.test.ts) into one worker, with the `node:test` shim in place of
// Node's runner. Run by Bun: `bun tests/workerd/build.ts <out-dir> [filter] [--edge]`.
// Default target: a workerd ES module (`export default { fetch }`). With --edge: a script for
// Vercel's Edge runtime (`addEventListener("fetch")`), which has no `node:assert`, so the suite's
// assertions come from assert_shim.ts there.
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const testsDir = resolve(here, "..");
const args = process.argv.slice(2).filter((arg) => arg !== "--edge");
const edge = process.argv.includes("--edge");
const outDir = resolve(args[0] ?? join(testsDir, ".out", "workerd"));
const filter = args[1] ?? "";

const files = readdirSync(testsDir)
  .filter((name) => name.endsWith(".test.ts") && name.includes(filter))
  .sort();

// Test files register their tests as a side effect of being evaluated. package.json says
// `"sideEffects": false` (true of the library), which lets the bundler drop a bare
// `import "file"`; importing each file as a namespace and keeping it reachable forbids that.
const entry = [
  ...files.flatMap((name, i) => [
    `import "herald-file:${name}";`,
    `import * as file${i} from ${JSON.stringify(join(testsDir, name))};`,
  ]),
  `(globalThis as Record<string, unknown>).__heraldTestFiles = [${
    files.map((_, i) => `file${i}`).join(", ")
  }];`,
  edge
    ? `import worker from ${JSON.stringify(join(here, "worker_entry.ts"))};\n` +
      `addEventListener("fetch", (event) => event.respondWith(worker.fetch(event.request)));`
    : `export { default } from ${JSON.stringify(join(here, "worker_entry.ts"))};`,
].join("\n");

interface BunPluginBuild {
  onResolve(
    options: { filter: RegExp; namespace?: string },
    callback: (args: { path: string }) => { path: string; namespace?: string },
  ): void;
  onLoad(
    options: { filter: RegExp; namespace?: string },
    callback: (args: { path: string }) => { contents: string; loader: "ts" },
  ): void;
}
interface BunBuild {
  build(options: {
    entrypoints: string[];
    outdir: string;
    target: "browser";
    format: "esm" | "iife";
    naming: string;
    external: string[];
    plugins: { name: string; setup(build: BunPluginBuild): void }[];
  }): Promise<{ success: boolean; logs: unknown[] }>;
}
// This script runs only under Bun; the type keeps `deno check` honest without Bun's typings.
const bun = (globalThis as unknown as { Bun: BunBuild }).Bun;

const shim = join(here, "node_test_shim.ts");
const assertShim = join(here, "assert_shim.ts");
const result = await bun.build({
  entrypoints: ["herald-entry"],
  outdir: outDir,
  target: "browser",
  format: edge ? "iife" : "esm",
  naming: edge ? "edge.js" : "worker.js",
  external: ["node:*"],
  plugins: [{
    name: "herald-workerd",
    setup(build) {
      build.onResolve({ filter: /^node:test$/ }, () => ({ path: shim }));
      if (edge) {
        build.onResolve({ filter: /^node:assert(\/strict)?$/ }, () => ({ path: assertShim }));
      }
      build.onResolve({ filter: /^herald-entry$/ }, () => ({ path: "entry", namespace: "herald" }));
      build.onResolve(
        { filter: /^herald-file:/ },
        (args) => ({ path: args.path.slice("herald-file:".length), namespace: "herald-file" }),
      );
      build.onLoad(
        { filter: /.*/, namespace: "herald" },
        () => ({ contents: entry, loader: "ts" }),
      );
      build.onLoad({ filter: /.*/, namespace: "herald-file" }, (args) => ({
        contents: `import { startFile } from ${JSON.stringify(shim)};\nstartFile(${
          JSON.stringify(args.path)
        });`,
        loader: "ts",
      }));
    },
  }],
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(JSON.stringify({ files, out: join(outDir, edge ? "edge.js" : "worker.js") }));
