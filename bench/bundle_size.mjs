#!/usr/bin/env node
// Bundle sizes: what each entry point costs a browser or edge bundle, and what the parser alone
// costs against eventsource-parser. The entry points are read from deno.json's `exports` at run
// time, so the table follows the package as it is. For each, a file that re-exports everything
// the entry point exports is bundled with `bun build --minify --target=browser` (peer
// dependencies, hono and @upstash/redis, left external: they are the user's, not ours), and the
// output is measured as is and gzipped (level 9). Then `createParser` imported alone from the
// root, against `createParser` from eventsource-parser: what tree-shaking leaves of each.
//
//   node bench/bundle_size.mjs            print the table and the VERDICT line
//   node bench/bundle_size.mjs --write    also replace the table in bench/README.md (between the
//                                         bundle-size markers)
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bun = join(repo, "node_modules", ".bin", "bun");
const EXTERNAL = ["hono", "hono/*", "@upstash/redis", "@upstash/redis/*"];

/** Bundles `source` (the text of an entry file) and returns its minified and gzip sizes. */
function measure(name, source, work) {
  const dir = join(work, name.replaceAll(/[^a-z0-9]+/gi, "_"));
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, "entry.ts");
  const out = join(dir, "out.js");
  writeFileSync(entry, source);
  const result = spawnSync(bun, [
    "build",
    entry,
    "--minify",
    "--target=browser",
    "--format=esm",
    ...EXTERNAL.flatMap((e) => ["--external", e]),
    "--outfile",
    out,
  ], { cwd: repo, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`bun build failed for ${name}:\n${result.stdout}\n${result.stderr}`);
  }
  const bytes = readFileSync(out);
  return { name, minified: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;

const denoJson = JSON.parse(readFileSync(join(repo, "deno.json"), "utf8"));
const exportsMap = typeof denoJson.exports === "string"
  ? { ".": denoJson.exports }
  : denoJson.exports ?? {};
const packageName = denoJson.name ?? "@herald/sse";

// Inside the repository, so bare imports resolve from its node_modules.
mkdirSync(join(repo, "bench", ".out"), { recursive: true });
const work = mkdtempSync(join(repo, "bench", ".out", "bundle-"));
const rows = [];
let parserRows;
try {
  for (const [subpath, file] of Object.entries(exportsMap)) {
    const label = subpath === "." ? packageName : `${packageName}${subpath.slice(1)}`;
    // A namespace import kept alive as a whole: every export is bundled, none is shaken off.
    const source = `import * as all from ${JSON.stringify(join(repo, file))};\n` +
      `(globalThis as Record<string, unknown>).all = all;\n`;
    rows.push(measure(label, source, work));
  }
  const herald = measure(
    "createParser from the root",
    `import { createParser } from ${JSON.stringify(join(repo, exportsMap["."] ?? "mod.ts"))};\n` +
      `(globalThis as Record<string, unknown>).p = createParser;\n`,
    work,
  );
  const peer = measure(
    "eventsource-parser createParser",
    `import { createParser } from "eventsource-parser";\n` +
      `(globalThis as Record<string, unknown>).p = createParser;\n`,
    work,
  );
  parserRows = [herald, peer];
} finally {
  rmSync(work, { recursive: true, force: true });
}

const cells = [
  ...rows.map((r) => [`\`${r.name}\` (everything it exports)`, kb(r.minified), kb(r.gzip)]),
  ...parserRows.map((r) => [`${r.name} alone`, kb(r.minified), kb(r.gzip)]),
];
// Padded as deno fmt pads a table, so the README stays formatted after a rewrite.
const head = ["import", "minified", "gzip"];
const widths = head.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
const line = (row) =>
  `| ${
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(" | ")
  } |`;
const table = [
  `| ${head[0].padEnd(widths[0])} | ${head[1].padStart(widths[1])} | ${
    head[2].padStart(widths[2])
  } |`,
  `| ${"-".repeat(widths[0])} | ${"-".repeat(widths[1] - 1)}: | ${"-".repeat(widths[2] - 1)}: |`,
  ...cells.map(line),
].join("\n");
const bunVersion = spawnSync(bun, ["--version"], { encoding: "utf8" }).stdout.trim();
const caption = `\`bun build --minify --target=browser\` (bun ${bunVersion}), peer dependencies ` +
  `external, gzip -9; ${new Date().toISOString().slice(0, 10)}.`;
console.log(`# Bundle sizes\n\n${table}\n\n${caption}\n`);

const [herald, peer] = parserRows;
const ratio = herald.minified / peer.minified;
const met = ratio < 1;
console.log(
  `VERDICT bundle.parser_only_vs_eventsource_parser ${ratio.toFixed(2)}x <1.00x ` +
    `${met ? "met" : "missed"} minified createParser, Herald/eventsource-parser ` +
    `(${kb(herald.minified)} vs ${kb(peer.minified)})`,
);

if (process.argv.includes("--write")) {
  const readmePath = join(repo, "bench", "README.md");
  const readme = readFileSync(readmePath, "utf8");
  const start = "<!-- bundle-size:start -->";
  const end = "<!-- bundle-size:end -->";
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from === -1 || to === -1) {
    console.error(`bench/README.md has no ${start} ... ${end} section: table not written`);
  } else {
    const section = `${start}\n\n${table}\n\n${caption}\n\n${end}`;
    writeFileSync(readmePath, readme.slice(0, from) + section + readme.slice(to + end.length));
    console.log("(table written to bench/README.md)");
  }
}
