#!/usr/bin/env node
// Builds the npm package: ESM JavaScript and `.d.ts` declarations under dist/ for every entry point
// named in deno.json `exports` (the JSR side publishes the TypeScript sources as they are).
//
//   node build/build_npm.mjs [--out-dir DIR]   (default: dist/ next to package.json)
//   node build/build_npm.mjs --print-exports   (prints the package.json `exports` it expects)
//
// The pinned TypeScript compiles the sources with `rewriteRelativeImportExtensions`, so the
// relative `.ts` imports the sources use (as Deno wants them) become `.js` in the JavaScript. The
// compiler leaves them as `.ts` in declarations; those are rewritten here too, so the types work
// under every `moduleResolution` and every TypeScript a consumer may use. Then the output is
// checked: each entry has its `.js` and `.d.ts`, no relative `.ts` import is left, the only bare
// imports are the peer dependencies (the core has no runtime dependency), and package.json
// `exports` maps every deno.json entry to its built files. Any failure exits non-zero and says
// what to do.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** How long the compiler may take before the build gives up. */
const compileTimeoutMs = 180_000;

/** A build failure: the message says what went wrong and what to do. */
class BuildError extends Error {
  name = "BuildError";
}

/** Where each entry's built files live, relative to the package root. */
function builtPaths(source) {
  const base = "./dist/" + source.replace(/^\.\//, "").replace(/\.ts$/, "");
  return { types: `${base}.d.ts`, import: `${base}.js`, default: `${base}.js` };
}

/** deno.json `exports` as [subpath, source] pairs, checked to be TypeScript files in the repo. */
function entries() {
  const exports = JSON.parse(readFileSync(join(repo, "deno.json"), "utf8")).exports;
  const pairs = typeof exports === "string" ? [[".", exports]] : Object.entries(exports ?? {});
  if (pairs.length === 0) throw new BuildError("deno.json has no `exports`: add the entry points.");
  for (const [subpath, source] of pairs) {
    if (!/^\.\/.+\.ts$/.test(source) || !existsSync(join(repo, source))) {
      throw new BuildError(
        `deno.json exports["${subpath}"] = "${source}" is not a .ts file in the repository: ` +
          "point it at the module's TypeScript source.",
      );
    }
  }
  return pairs;
}

/** The package.json `exports` that matches deno.json's entries. */
function expectedExports(pairs) {
  return Object.fromEntries(pairs.map(([subpath, source]) => [subpath, builtPaths(source)]));
}

function checkPackageJson(pairs) {
  const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
  const expected = expectedExports(pairs);
  if (JSON.stringify(pkg.exports) !== JSON.stringify(expected)) {
    throw new BuildError(
      "package.json `exports` does not match deno.json `exports`. Set it to:\n" +
        JSON.stringify(expected, null, 2) +
        "\n(`node build/build_npm.mjs --print-exports` prints this block.)",
    );
  }
  const main = builtPaths(pairs.find(([subpath]) => subpath === ".")?.[1] ?? "");
  if (pkg.main !== main.import || pkg.types !== main.types) {
    throw new BuildError(
      `package.json needs "main": "${main.import}" and "types": "${main.types}" ` +
        "(the `.` entry's built files), for tools that don't read `exports`.",
    );
  }
  return Object.keys(pkg.peerDependencies ?? {});
}

function compile(pairs, outDir) {
  const tsc = join(repo, "node_modules", ".bin", "tsc");
  if (!existsSync(tsc)) {
    throw new BuildError("node_modules/.bin/tsc is missing: run `npm install` first.");
  }
  const args = [
    ...pairs.map(([, source]) => source),
    // The package is built from the options below alone, whatever config file the repository has
    // (jsconfig.json maps `@herald/sse` for Bun).
    "--ignoreConfig",
    ...["--outDir", outDir, "--rootDir", "."],
    ...["--target", "es2023", "--lib", "es2023,dom,dom.iterable"],
    ...["--module", "esnext", "--moduleResolution", "bundler"],
    "--rewriteRelativeImportExtensions",
    "--allowImportingTsExtensions",
    "--declaration",
    "--strict",
    // Only the sources' own types are checked here; the peers' declarations are theirs to check.
    "--skipLibCheck",
    ...["--types", ""],
    ...["--newLine", "lf"],
    "--noEmitOnError",
    "--pretty",
    "false",
  ];
  const result = spawnSync(tsc, args, {
    cwd: repo,
    encoding: "utf8",
    timeout: compileTimeoutMs,
  });
  if (result.error || result.status !== 0) {
    throw new BuildError(
      `tsc failed (${result.error?.message ?? `exit ${result.status}`}):\n` +
        `${result.stdout}${result.stderr}\n` +
        "Fix the errors above: the sources must type-check with plain TypeScript and the web " +
        "platform's types (no Deno or Bun globals outside src/capabilities.ts's casts).",
    );
  }
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

// `from "x"`, `import "x"`, `import("x")`: the specifiers of static and dynamic imports and
// re-exports, as TypeScript emits them.
const specifierPattern = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])([^"'\n]+)\2/g;

/** Rewrites relative `.ts` specifiers to `.js` in declarations; returns the bare ones it saw. */
function fixDeclarations(outDir) {
  for (const file of walk(outDir)) {
    if (!file.endsWith(".d.ts")) continue;
    const text = readFileSync(file, "utf8");
    const fixed = text.replace(
      specifierPattern,
      (match, lead, quote, specifier) =>
        /^\.\.?\//.test(specifier) && specifier.endsWith(".ts") && !specifier.endsWith(".d.ts")
          ? `${lead}${quote}${specifier.slice(0, -3)}.js${quote}`
          : match,
    );
    if (fixed !== text) writeFileSync(file, fixed);
  }
}

function verify(pairs, outDir, peers) {
  const problems = [];
  for (const [subpath, source] of pairs) {
    for (const path of [builtPaths(source).import, builtPaths(source).types]) {
      const file = join(outDir, path.replace(/^\.\/dist\//, ""));
      if (!existsSync(file)) problems.push(`entry "${subpath}": ${path} was not emitted`);
    }
  }
  let files = 0;
  let bytes = 0;
  for (const file of walk(outDir)) {
    files++;
    const text = readFileSync(file, "utf8");
    bytes += statSync(file).size;
    // Comments (JSDoc examples import "@herald/sse") are not imports.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    for (const [, , , specifier] of code.matchAll(specifierPattern)) {
      const where = relative(outDir, file);
      if (/^\.\.?\//.test(specifier)) {
        if (!specifier.endsWith(".js")) {
          problems.push(`${where}: relative import "${specifier}" does not end in .js`);
        }
      } else {
        const name = specifier.startsWith("@")
          ? specifier.split("/").slice(0, 2).join("/")
          : specifier.split("/")[0];
        if (!peers.includes(name)) {
          problems.push(
            `${where}: imports "${specifier}", which is not a peer dependency (the core has no ` +
              "runtime dependencies: use web standards, or add an adapter entry with a peer)",
          );
        }
      }
    }
  }
  if (problems.length > 0) {
    throw new BuildError(`the build output is not publishable:\n  ${problems.join("\n  ")}`);
  }
  return { files, bytes };
}

function main(args) {
  const pairs = entries();
  if (args.includes("--print-exports")) {
    console.log(JSON.stringify(expectedExports(pairs), null, 2));
    return;
  }
  const at = args.indexOf("--out-dir");
  const outDir = at === -1 ? join(repo, "dist") : resolve(args[at + 1] ?? "");
  if (at !== -1 && !args[at + 1]) throw new BuildError("--out-dir needs a directory.");
  // The output folder is emptied first: never let that be the repository or one of its parents.
  if (!isAbsolute(outDir) || repo === outDir || (repo + sep).startsWith(outDir + sep)) {
    throw new BuildError(`refusing to empty ${outDir}: choose a folder of its own.`);
  }
  const peers = checkPackageJson(pairs);
  const started = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  compile(pairs, outDir);
  fixDeclarations(outDir);
  const { files, bytes } = verify(pairs, outDir, peers);
  const names = pairs.map(([subpath]) => subpath).join(", ");
  const where = relative(process.cwd(), outDir) || ".";
  const kib = (bytes / 1024).toFixed(1);
  console.log(
    `built ${names} into ${where}: ${files} files, ${kib} KiB, ${Date.now() - started} ms`,
  );
}

try {
  main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof BuildError)) throw error;
  console.error(`build_npm: ${error.message}`);
  process.exit(1);
}
