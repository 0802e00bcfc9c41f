// The npm package as a user gets it: built by build/build_npm.mjs, packed by `npm pack`, installed
// from the tarball (offline: the core has no dependencies) into a fresh project, then imported by
// plain Node (and Bun) and type-checked by TypeScript against the shipped declarations.
// The heavy part runs under the Deno host only (the Bun host would repeat the same commands).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { canSpawn, runtime } from "../support/runtime.ts";
import { PUBLIC_SURFACE } from "../public_api_surface.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = (name: string) => join(repo, "node_modules", ".bin", name);
const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));
/** Every step (build, pack, install, a check) is bounded by this; together they take ~10 s. */
const stepTimeoutMs = 90_000;
/** Peers the adapters' declarations and modules need; linked from the repo, never fetched. */
const peerPackages = ["hono", "@upstash/redis", "@types/node"];

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command with no npm_* variables inherited (under `npm test` they would point npm at this
 * repository), killed after `stepTimeoutMs`.
 */
function run(command: string, args: string[], cwd: string): Promise<Ran> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(globalThis.process?.env ?? {})) {
    if (!/^npm_/i.test(key) && value !== undefined) env[key] = value;
  }
  Object.assign(env, {
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    NO_COLOR: "1",
  });
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), stepTimeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** Runs a command and fails with its output unless it exits 0. */
async function must(command: string, args: string[], cwd: string): Promise<string> {
  const ran = await run(command, args, cwd);
  if (ran.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} exited ${ran.code} in ${cwd}:\n${ran.stdout}\n${ran.stderr}`,
    );
  }
  return ran.stdout;
}

/** deno.json `exports` as [subpath, source] pairs: the entries the package must ship. */
function denoEntries(): [string, string][] {
  const exports = readJson(join(repo, "deno.json")).exports;
  return typeof exports === "string" ? [[".", exports]] : Object.entries(exports);
}

/** The package specifier a consumer writes for a subpath ("." → "@herald/sse"). */
const specifierOf = (subpath: string) => "@herald/sse" + subpath.slice(1);

describe("npm package: package.json", { skip: !canSpawn }, () => {
  it("maps every deno.json entry to its built .d.ts and .js under dist/", () => {
    const pkg = readJson(join(repo, "package.json"));
    const entries = denoEntries();
    assert.deepEqual(Object.keys(pkg.exports).sort(), entries.map(([subpath]) => subpath).sort());
    for (const [subpath, source] of entries) {
      const base = "./dist/" + source.slice(2).replace(/\.ts$/, "");
      assert.deepEqual(pkg.exports[subpath], {
        types: `${base}.d.ts`,
        import: `${base}.js`,
        default: `${base}.js`,
      });
    }
    assert.equal(pkg.main, pkg.exports["."].import);
    assert.equal(pkg.types, pkg.exports["."].types);
    assert.equal(pkg.sideEffects, false);
    assert.deepEqual(pkg.dependencies ?? {}, {}, "the core has no runtime dependencies");
    for (const peer of Object.keys(pkg.peerDependencies ?? {})) {
      assert.equal(pkg.peerDependenciesMeta?.[peer]?.optional, true, `${peer} is optional`);
    }
  });

  it("`npm pack` of the repository would take dist/, package.json and README only", async () => {
    const listing = JSON.parse(
      await must("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], repo),
    );
    const paths: string[] = listing[0].files.map((file: { path: string }) => file.path);
    assert.ok(paths.includes("package.json") && paths.includes("README.md"), paths.join(", "));
    const stray = paths.filter((p) =>
      !p.startsWith("dist/") && p !== "package.json" && p !== "README.md" && p !== "LICENSE"
    );
    assert.deepEqual(stray, [], "nothing outside dist/ but package.json, README and LICENSE");
  });
});

/** What the heavy part builds once: the temp folder, the tarball and the consumer project. */
interface Installed {
  root: string;
  tarball: string;
  consumer: string;
  /** The installed package's folder. */
  installed: string;
}

let installing: Promise<Installed> | undefined;
/** The temporary folder, removed after the tests whether they passed or not. */
let scratchRoot: string | undefined;
/** Builds, packs and installs the package once for the tests below (lazily, so a failure shows). */
function installed(): Promise<Installed> {
  installing ??= (async () => {
    const root = mkdtempSync(join(tmpdir(), "herald-npm-"));
    scratchRoot = root;
    const stage = join(root, "package");
    mkdirSync(stage);
    await must(
      "node",
      [join(repo, "build", "build_npm.mjs"), "--out-dir", join(stage, "dist")],
      repo,
    );
    // The package root as `npm pack` sees it in the repo: package.json, the built dist/, and every
    // other path that package.json `files` names.
    const pkg = readJson(join(repo, "package.json"));
    cpSync(join(repo, "package.json"), join(stage, "package.json"));
    for (const path of pkg.files as string[]) {
      if (!path.replace(/^\.\//, "").startsWith("dist")) {
        cpSync(join(repo, path), join(stage, path));
      }
    }
    const packed = JSON.parse(
      await must("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", root], stage),
    );
    const tarball = join(root, packed[0].filename);
    const consumer = join(root, "consumer");
    mkdirSync(consumer);
    writeFileSync(
      join(consumer, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    await must("npm", [
      "install",
      "--offline",
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      "--prefix",
      consumer,
      tarball,
    ], consumer);
    // The optional peers, for the adapters (npm installs none of them: they are optional).
    for (const name of peerPackages) {
      const link = join(consumer, "node_modules", name);
      mkdirSync(dirname(link), { recursive: true });
      if (!existsSync(link)) symlinkSync(join(repo, "node_modules", name), link, "dir");
    }
    return { root, tarball, consumer, installed: join(consumer, "node_modules", "@herald", "sse") };
  })();
  return installing;
}

// Sent through the built encoder and read back by the built parser, in Node. Data with CR, LF and
// CRLF, a leading space, colons, unicode (split across chunks by the 3-byte chunking below), an
// empty string, JSON, an id reset.
const sentEvents = [
  { data: "plain" },
  { event: "multi", id: "1", data: "line one\nline two\r\nline three\rend" },
  { data: " leading space: and a colon" },
  { id: "2", data: "héllo wörld ✓ 🚀 日本語" },
  { data: "" },
  { event: "json", data: { n: 42, text: "a\nb" } },
  { id: "", data: "id reset" },
];

const roundTripScript = `
import { readFileSync } from "node:fs";
import { createParser, encodeEvent, SSEEncoderStream, SSEParserStream } from "@herald/sse";
const events = JSON.parse(readFileSync(process.argv[2], "utf8"));
const text = events.map((e) => encodeEvent(e)).join("");
const bytes = new TextEncoder().encode(text);
let i = 0;
const chunked = new ReadableStream({
  pull(controller) {
    if (i >= bytes.length) return controller.close();
    controller.enqueue(bytes.subarray(i, i + 3));
    i += 3;
  },
});
const viaStream = [];
for await (const m of chunked.pipeThrough(new SSEParserStream())) viaStream.push(m);
const viaParser = [];
const parser = createParser({ onEvent: (m) => viaParser.push(m) });
for (const ch of text) parser.feed(ch);
const encoded = [];
const encoder = ReadableStream.from(events).pipeThrough(new SSEEncoderStream());
for await (const chunk of encoder.pipeThrough(new TextDecoderStream())) encoded.push(chunk);
const sameBytes = encoded.join("") === text;
console.log(JSON.stringify({ viaStream, viaParser, sameBytes }));
`;

const exportsScript = `
const names = {};
for (const specifier of JSON.parse(process.argv[2])) {
  names[specifier] = Object.keys(await import(specifier)).sort();
}
console.log(JSON.stringify(names));
`;

/** What the spec-exact parser must give back for `sentEvents`. */
function expectedMessages() {
  let lastEventId = "";
  return sentEvents.map((e) => {
    if (e.id !== undefined) lastEventId = e.id;
    const data = typeof e.data === "string"
      ? e.data.replace(/\r\n|\r/g, "\n")
      : JSON.stringify(e.data);
    return { event: e.event ?? "message", data, id: e.id, lastEventId };
  });
}

/** Compares parsed messages with the expected ones, field by field (`id` only when sent). */
function assertMessages(actual: Record<string, unknown>[], label: string): void {
  const expected = expectedMessages();
  assert.equal(actual.length, expected.length, `${label}: one message per event`);
  actual.forEach((m, n) => {
    const want = expected[n];
    assert.equal(m.event, want.event, `${label} #${n} event`);
    assert.equal(m.data, want.data, `${label} #${n} data`);
    assert.equal(m.lastEventId, want.lastEventId, `${label} #${n} lastEventId`);
    if (want.id !== undefined) assert.equal(m.id, want.id, `${label} #${n} id`);
  });
}

describe(
  "npm package: built, packed and installed into a Node project",
  { skip: runtime !== "deno" },
  () => {
    after(() => {
      if (scratchRoot) rmSync(scratchRoot, { recursive: true, force: true });
    });

    it("the tarball holds dist/ (ESM + .d.ts), package.json and README: no tests, bench, examples or .ts sources", async () => {
      const { tarball } = await installed();
      const paths = (await must("tar", ["-tzf", tarball], repo)).trim().split("\n")
        .map((p) => p.replace(/^package\//, ""));
      assert.ok(paths.includes("package.json") && paths.includes("README.md"));
      const stray = paths.filter((p) =>
        !p.startsWith("dist/") && p !== "package.json" && p !== "README.md" && p !== "LICENSE"
      );
      assert.deepEqual(stray, []);
      for (const p of paths.filter((p) => p.startsWith("dist/"))) {
        assert.ok(/\.(js|d\.ts)$/.test(p), `only .js and .d.ts in dist/: ${p}`);
        assert.doesNotMatch(p, /(^|\/)(tests?|bench|examples)\//, p);
      }
    });

    it("installs offline with no dependencies, and every entry's .js and .d.ts is where exports points", async () => {
      const { installed: dir, consumer } = await installed();
      const pkg = readJson(join(dir, "package.json"));
      for (const [subpath] of denoEntries()) {
        const target = pkg.exports[subpath];
        assert.ok(target, `exports has ${subpath}`);
        for (const file of [target.types, target.import]) {
          assert.ok(existsSync(join(dir, file)), `${subpath}: ${file} is in the package`);
        }
      }
      const lock = readJson(join(consumer, "package-lock.json"));
      const installedNames = Object.keys(lock.packages).filter((p) =>
        p.startsWith("node_modules/")
      );
      assert.deepEqual(installedNames, ["node_modules/@herald/sse"], "nothing else was installed");
    });

    it("Node imports encodeEvent, createParser and SSEParserStream from @herald/sse and round-trips events through encoder and parser stream", async () => {
      const { root, consumer } = await installed();
      const script = join(consumer, "roundtrip.mjs");
      const eventsFile = join(root, "events.json");
      writeFileSync(script, roundTripScript);
      writeFileSync(eventsFile, JSON.stringify(sentEvents));
      const version = (await must("node", ["--version"], consumer)).trim();
      const engines = readJson(join(repo, "package.json")).engines.node;
      assert.ok(
        Number(/^v(\d+)/.exec(version)?.[1]) >= Number(/(\d+)/.exec(engines)?.[1]),
        `${version} is within engines.node ${engines}`,
      );
      const result = JSON.parse(await must("node", [script, eventsFile], consumer));
      assertMessages(result.viaStream, `SSEParserStream on Node ${version}`);
      assertMessages(result.viaParser, `createParser on Node ${version}`);
      assert.equal(result.sameBytes, true, "SSEEncoderStream writes what encodeEvent writes");
    });

    it("every entry exports the pinned names under Node and Bun, as its TypeScript source does", async () => {
      const { consumer } = await installed();
      const script = join(consumer, "exports.mjs");
      writeFileSync(script, exportsScript);
      const entries = denoEntries();
      const specifiers = JSON.stringify(entries.map(([subpath]) => specifierOf(subpath)));
      const expected: Record<string, string[]> = {};
      for (const [subpath, source] of entries) {
        expected[specifierOf(subpath)] = Object.keys(await import(join(repo, source))).sort();
        assert.deepEqual(
          expected[specifierOf(subpath)],
          [...PUBLIC_SURFACE[subpath].values].sort(),
          `${subpath}: the source exports the pinned values`,
        );
      }
      assert.deepEqual(JSON.parse(await must("node", [script, specifiers], consumer)), expected);
      assert.deepEqual(
        JSON.parse(await must(bin("bun"), [script, specifiers], consumer)),
        expected,
      );
    });

    for (const [label, options] of typeScriptSetups) {
      it(`a TypeScript consumer type-checks against the declarations (${label})`, async () => {
        const { consumer } = await installed();
        const name = `check_${options.moduleResolution}_${options.lib.length}`;
        writeFileSync(join(consumer, `${name}.ts`), typeScriptConsumer());
        writeFileSync(
          join(consumer, `tsconfig.${name}.json`),
          JSON.stringify({
            compilerOptions: { ...options, target: "es2023", strict: true, noEmit: true },
            files: [`${name}.ts`],
          }),
        );
        const ran = await run(
          bin("tsc"),
          ["-p", `tsconfig.${name}.json`, "--pretty", "false"],
          consumer,
        );
        assert.equal(ran.code, 0, `tsc --noEmit failed:\n${ran.stdout}${ran.stderr}`);
      });
    }

    it("the TypeScript check can fail: a wrong use of the declared API is an error", async () => {
      const { consumer } = await installed();
      writeFileSync(
        join(consumer, "wrong.ts"),
        'import { encodeEvent } from "@herald/sse";\nconst n: number = encodeEvent({ retry: "1" });\n',
      );
      writeFileSync(
        join(consumer, "tsconfig.wrong.json"),
        JSON.stringify({
          compilerOptions: { module: "nodenext", strict: true, noEmit: true, types: ["node"] },
          files: ["wrong.ts"],
        }),
      );
      const ran = await run(
        bin("tsc"),
        ["-p", "tsconfig.wrong.json", "--pretty", "false"],
        consumer,
      );
      assert.notEqual(ran.code, 0);
      // The string returned is not a number; "1" is not a number of milliseconds. Nothing else.
      const errors = ran.stdout.trim().split("\n");
      assert.equal(errors.length, 2, ran.stdout);
      assert.match(errors[0], /^wrong\.ts\(2,7\): error TS2322: Type 'string' is not assignable/);
      assert.match(errors[1], /^wrong\.ts\(2,33\): error TS2322: Type 'string' is not assignable/);
    });

    it("`deno publish --dry-run` (JSR) passes and takes the entry points, src/, README and deno.json only", async () => {
      const ran = await run(
        bin("deno"),
        ["publish", "--dry-run", "--allow-dirty", "--no-check"],
        repo,
      );
      const out = ran.stdout + ran.stderr;
      assert.equal(ran.code, 0, out);
      const files = [...out.matchAll(/file:\/\/(\S+)/g)].map(([, path]) =>
        path.slice(repo.length + 1)
      );
      assert.ok(files.includes("mod.ts") && files.includes("deno.json"), out);
      const entryFiles = denoEntries().map(([, source]) => source.slice(2));
      const stray = files.filter((p) =>
        !p.startsWith("src/") && !["deno.json", "README.md", "LICENSE", ...entryFiles].includes(p)
      );
      assert.deepEqual(stray, []);
      for (const [, source] of denoEntries()) assert.ok(files.includes(source.slice(2)), source);
    });
  },
);

/**
 * The consumers' compiler settings. Node users without the DOM library get declarations that
 * name only web types @types/node declares too (src/web_types.ts derives the DOM-only ones), so
 * their declarations are checked with skipLibCheck off as well.
 */
const typeScriptSetups = [
  ["Node's nodenext resolution, @types/node and the DOM library, declarations checked too", {
    module: "nodenext",
    moduleResolution: "nodenext",
    lib: ["es2023", "dom", "dom.iterable"],
    types: ["node"],
    skipLibCheck: false,
  }],
  ["Node's nodenext resolution, @types/node without the DOM library, declarations checked too", {
    module: "nodenext",
    moduleResolution: "nodenext",
    lib: ["es2023"],
    types: ["node"],
    skipLibCheck: false,
  }],
  ["bundler resolution and the DOM library, declarations checked too", {
    module: "esnext",
    moduleResolution: "bundler",
    lib: ["es2023", "dom", "dom.iterable"],
    types: [],
    skipLibCheck: false,
  }],
] as const;

/**
 * A small consumer: typed use of the core, an import of every entry's declarations, and every
 * pinned type of every entry named (so a type the declarations lack is an error).
 */
function typeScriptConsumer(): string {
  const entries = denoEntries();
  const typeUses = entries.flatMap(([subpath], n) =>
    PUBLIC_SURFACE[subpath].types.map((name) => {
      // A generic type needs its argument; `any` fits every constraint here.
      const generic = ["SSEEventOf", "StreamEventOf", "StreamWrite"].includes(name) ? "<any>" : "";
      return `export type T${n}_${name} = entry${n}.${name}${generic};`;
    })
  );
  return [
    'import { createParser, encodeEvent, SSEEncodeError, SSEParserStream } from "@herald/sse";',
    'import type { SSEEvent, SSEMessage } from "@herald/sse";',
    ...entries.map(([subpath], n) => `import * as entry${n} from "${specifierOf(subpath)}";`),
    `export const entries = [${entries.map((_, n) => `entry${n}`).join(", ")}];`,
    ...typeUses,
    'const event: SSEEvent = { event: "tick", id: "1", data: { n: 1 } };',
    "const text: string = encodeEvent(event);",
    "const seen: SSEMessage[] = [];",
    "createParser({ onEvent: (m) => seen.push(m), maxEventBytes: 1024 }).feed(text);",
    "const last: string = seen[0].lastEventId;",
    "export const stream: ReadableStream<SSEMessage> = new ReadableStream<Uint8Array>()",
    "  .pipeThrough(new SSEParserStream({ onRetry: (ms: number) => void ms }));",
    "export const failure = new SSEEncodeError('invalid-id', 'x');",
    "export const code: string = failure.code;",
    "export { last };",
  ].join("\n") + "\n";
}
