// The export list test for types: `deno doc` lists every name an entry point exports, types
// included, with its documentation. Each entry point must export exactly what
// tests/public_api_surface.ts lists (values and types), and every export must be documented, so
// the public surface is the one the docs describe and nothing more. Spawns the pinned `deno`, so
// it runs under Deno and Bun.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PUBLIC_SURFACE } from "../public_api_surface.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const deno = join(repo, "node_modules", ".bin", "deno");
const entries: Record<string, string> =
  JSON.parse(readFileSync(join(repo, "deno.json"), "utf8")).exports;

interface DocSymbol {
  name: string;
  declarations: { kind: string; jsDoc?: { doc?: string }; location: { filename: string } }[];
}

/** Each exported symbol of a module, as `deno doc --json` describes it. */
function exportsOf(source: string): DocSymbol[] {
  const result = spawnSync(deno, ["doc", "--json", source], {
    cwd: repo,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  assert.equal(result.status, 0, `deno doc ${source} failed:\n${result.stderr}`);
  const json = JSON.parse(result.stdout) as { nodes: Record<string, { symbols: DocSymbol[] }> };
  return Object.values(json.nodes).flatMap((node) => node.symbols);
}

const VALUE_KINDS = new Set(["class", "function", "variable", "enum"]);

describe("public API types", () => {
  it("package.json exports every deno.json entry point", () => {
    const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
    assert.deepEqual(Object.keys(pkg.exports), Object.keys(entries));
    assert.deepEqual(Object.keys(entries).sort(), Object.keys(PUBLIC_SURFACE).sort());
  });

  it("no name means two things: a name exported by several entries is one declaration", () => {
    const declaredIn = new Map<string, Set<string>>();
    for (const source of Object.values(entries)) {
      for (const symbol of exportsOf(source)) {
        const files = declaredIn.get(symbol.name) ?? new Set();
        for (const d of symbol.declarations) files.add(d.location.filename);
        declaredIn.set(symbol.name, files);
      }
    }
    const twice = [...declaredIn].filter(([, files]) => files.size > 1).map(([name]) => name);
    assert.deepEqual(twice, []);
  });

  it("no public name is also the name of an internal export elsewhere in src/", () => {
    const publicNames = new Set(
      Object.values(PUBLIC_SURFACE).flatMap((surface) => [...surface.values, ...surface.types]),
    );
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith(".ts")) files.push(path);
      }
    };
    walk(join(repo, "src"));
    const declared = new Map<string, string[]>();
    const DECLARATION =
      /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:class|interface|type|function|const|let|enum)\s+(\w+)/gm;
    for (const file of files) {
      for (const [, name] of readFileSync(file, "utf8").matchAll(DECLARATION)) {
        if (publicNames.has(name)) declared.set(name, [...(declared.get(name) ?? []), file]);
      }
    }
    const twice = [...declared].filter(([, where]) => where.length > 1)
      .map(([name, where]) => `${name}: ${where.map((f) => f.slice(repo.length + 1)).join(", ")}`);
    assert.deepEqual(twice, []);
  });

  for (const [subpath, source] of Object.entries(entries)) {
    it(`${subpath} exports exactly its listed values and types, each documented`, () => {
      const symbols = exportsOf(source);
      const values = symbols.filter((s) => s.declarations.some((d) => VALUE_KINDS.has(d.kind)));
      const types = symbols.filter((s) => !values.includes(s));
      const surface = PUBLIC_SURFACE[subpath];
      assert.deepEqual(values.map((s) => s.name).sort(), [...surface.values].sort(), "values");
      assert.deepEqual(types.map((s) => s.name).sort(), [...surface.types].sort(), "types");
      const undocumented = symbols
        .filter((s) => !s.declarations.some((d) => d.jsDoc?.doc?.trim()))
        .map((s) => s.name);
      assert.deepEqual(undocumented, [], `${subpath}: exports without documentation`);
    });
  }
});
