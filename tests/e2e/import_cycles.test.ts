// No import cycles: a module graph with a cycle makes evaluation order depend on which module is
// imported first (a class used before its module has run), and is the sign of two files doing one
// job. Walks the static imports (type imports included: they tie the files together as much) of
// every entry point in deno.json, and fails naming the cycle. Reads files, so it runs under Deno
// and Bun, not in the bundled suites.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

// `import ... from "x"`, `export ... from "x"`, `import "x"`, `import("x")`; comments are removed
// first, so a JSDoc example's imports don't count.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])([^"'\n]+)\1/g;

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/** The repository files a module imports (bare specifiers, peers and `node:` are not followed). */
function importsOf(file: string): string[] {
  const text = stripComments(readFileSync(file, "utf8"));
  const out: string[] = [];
  for (const [, , specifier] of text.matchAll(SPECIFIER)) {
    if (!specifier.startsWith(".")) continue;
    const target = resolve(dirname(file), specifier);
    assert.ok(existsSync(target), `${relative(repo, file)} imports ${specifier}, which is missing`);
    out.push(target);
  }
  return out;
}

/** The first cycle reachable from `entry`, as a list of files that ends where it starts. */
function findCycle(entry: string): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  function visit(file: string): string[] | undefined {
    if (onPath.has(file)) return [...path.slice(path.indexOf(file)), file];
    if (done.has(file)) return undefined;
    path.push(file);
    onPath.add(file);
    for (const next of importsOf(file)) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(file);
    done.add(file);
    return undefined;
  }
  return visit(entry);
}

const entries: Record<string, string> =
  JSON.parse(readFileSync(join(repo, "deno.json"), "utf8")).exports;

describe("import graph", () => {
  it("finds a cycle when there is one (the check itself)", () => {
    // Two modules importing each other, in the test's own output folder.
    const dir = join(repo, "tests", ".out", `import-cycle-${Date.now()}`);
    const a = join(dir, "a.ts");
    const b = join(dir, "b.ts");
    mkdirSync(dir, { recursive: true });
    writeFileSync(a, 'import { b } from "./b.ts";\nexport const a = () => b;\n');
    writeFileSync(
      b,
      '// import "./nothing.ts";\nimport type { a } from "./a.ts";\nexport const b = 1;\n',
    );
    try {
      assert.deepEqual(findCycle(a)?.map((f) => relative(dir, f)), ["a.ts", "b.ts", "a.ts"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [subpath, source] of Object.entries(entries)) {
    it(`${subpath} (${source}) has no import cycle`, () => {
      const cycle = findCycle(join(repo, source));
      assert.equal(
        cycle?.map((file) => relative(repo, file)).join(" -> "),
        undefined,
        "an import cycle: move what both files need into a third, or pass it in",
      );
    });
  }
});
