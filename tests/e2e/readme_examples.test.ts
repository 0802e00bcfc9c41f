// The README's code runs as written. Every ```ts block is written to a file of the name its first
// line gives (`// server.ts: ...`) and run by the runtime hosting this test (`deno` under Deno,
// `bun` under Bun), importing `@herald/sse` as a user would (deno.json's import map, tsconfig's
// paths for Bun). A block that ends with assertions must exit 0; a block with a default `fetch`
// export is served on 127.0.0.1 and exercised over HTTP, and the client block talks to the server
// block before it. The one change made to a block: `localhost:8000` becomes the test server's
// address. Also checked: the README stays a page (at most 250 lines), and every document it links
// to exists in the repository.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type SSEMessage } from "../../mod.ts";
import { canSpawn, runtime } from "../support/runtime.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const readme = readFileSync(join(repo, "README.md"), "utf8");
const REPOSITORY_URL = "https://github.com/herald-sse/herald";
/** A block that runs to its end gets this long; a server this long to listen. */
const stepTimeoutMs = 60_000;

interface Block {
  name: string;
  code: string;
  serves: boolean;
}

function readmeBlocks(): Block[] {
  const blocks: Block[] = [];
  for (const [, code] of readme.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const name = /^\/\/ ([\w-]+\.ts):/.exec(code)?.[1];
    assert.ok(name, `every README block starts with "// <file>.ts: how to run it":\n${code}`);
    blocks.push({ name, code, serves: /^export default\b/m.test(code) });
  }
  return blocks;
}

const dir = join(repo, "tests", ".out", `readme-${runtime}-${Date.now()}`);
const children = new Set<ChildProcess>();

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/** Writes a block where the repository's import map and tsconfig apply, with its port set. */
function writeBlock(block: Block, port: number | undefined): string {
  const file = join(dir, block.name);
  const code = port === undefined
    ? block.code
    : block.code.replaceAll("localhost:8000", `127.0.0.1:${port}`);
  writeFileSync(file, code);
  return file;
}

interface Exit {
  code: number | null;
  output: string;
}

function start(command: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(command, args, {
    cwd: dir,
    env: { ...globalThis.process?.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const exited = new Promise<Exit>((done) => {
    child.on("close", (code) => {
      children.delete(child);
      done({ code, output });
    });
  });
  return { child, exited, output: () => output };
}

const bin = (name: string) => join(repo, "node_modules", ".bin", name);

/** Runs a block to its end; resolves with its exit code and output. */
async function runToEnd(file: string): Promise<Exit> {
  const { child, exited } = runtime === "deno"
    ? start(bin("deno"), ["run", "--allow-net", file])
    : start(bin("bun"), [file]);
  const timer = setTimeout(() => child.kill("SIGKILL"), stepTimeoutMs);
  const exit = await exited;
  clearTimeout(timer);
  return exit;
}

/** Serves a block's default export on 127.0.0.1:port; resolves once it answers. */
async function serveBlock(file: string, port: number): Promise<{ url: string; stop(): void }> {
  let running;
  if (runtime === "deno") {
    running = start(bin("deno"), [
      "serve",
      "--allow-net",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      file,
    ]);
  } else {
    // `bun file.ts` serves a default export on every interface; a wrapper keeps it on loopback.
    const wrapper = file.replace(/\.ts$/, ".serve.ts");
    writeFileSync(
      wrapper,
      `import app from ${JSON.stringify(file)};\n` +
        "(globalThis as any).Bun.serve({ hostname: '127.0.0.1', port: " + port +
        ", fetch: app.fetch });\n",
    );
    running = start(bin("bun"), [wrapper]);
  }
  const url = `http://127.0.0.1:${port}`;
  const stop = () => running.child.kill("SIGKILL");
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      await fetch(url + "/ready", { method: "HEAD", signal: AbortSignal.timeout(1000) })
        .then((response) => response.body?.cancel());
      return { url, stop };
    } catch {
      if (running.child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  stop();
  throw new Error(`${file} did not start listening on ${url}:\n${running.output()}`);
}

/** Reads messages from an event-stream URL until `take` says stop, bounded in time. */
async function collect(
  url: string,
  take: (messages: SSEMessage[]) => boolean,
  options: { lastEventId?: string; onopen?: () => void } = {},
): Promise<SSEMessage[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), stepTimeoutMs);
  const messages: SSEMessage[] = [];
  const connection = connect(url, {
    signal: controller.signal,
    lastEventId: options.lastEventId,
    retry: { initialMs: 100 },
    maxRetries: 5,
  });
  connection.onopen = () => options.onopen?.();
  try {
    for await (const message of connection) {
      messages.push(message);
      if (take(messages)) break;
    }
  } finally {
    clearTimeout(timer);
  }
  assert.ok(!controller.signal.aborted, `${url}: timed out with ${JSON.stringify(messages)}`);
  return messages;
}

describe("README", () => {
  it("is a page: at most 250 lines", () => {
    assert.ok(readme.split("\n").length <= 250, `${readme.split("\n").length} lines`);
  });

  it("links only to documents that exist in the repository", () => {
    // Reference definitions (`[name]: url` at the start of a line) and inline links (`](url)`).
    const links = [...readme.matchAll(/^\[[^\]]+\]:\s*(\S+)|\]\((\S+?)\)/gm)]
      .map(([, a, b]) => a ?? b);
    const missing = links
      .filter((link) => link.startsWith(REPOSITORY_URL + "/"))
      .map((link) => link.slice(REPOSITORY_URL.length).replace(/^\/(blob|tree)\/main\//, ""))
      .filter((path) => !existsSync(join(repo, path.split("#")[0])));
    assert.deepEqual(missing, [], "documents the README links to");
    const relative = links.filter((link) => !/^[a-z]+:/.test(link) && !link.startsWith("#"));
    assert.deepEqual(relative, [], "links must be absolute to work on npm and JSR");
  });

  it("names no jsr: import in its code (installation text only)", () => {
    for (const block of readmeBlocks()) assert.doesNotMatch(block.code, /from\s+["']jsr:/);
  });
});

describe("README examples run as written", { skip: !canSpawn }, () => {
  const blocks = readmeBlocks();
  let server: { url: string; stop(): void } | undefined;
  const stops: (() => void)[] = [];
  mkdirSync(dir, { recursive: true });

  after(() => {
    for (const stop of stops) stop();
    for (const child of children) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("has the five examples this test knows how to check", () => {
    assert.deepEqual(blocks.map((block) => block.name), [
      "protocol.ts",
      "server.ts",
      "client.ts",
      "hub.ts",
      "answers.ts",
    ]);
  });

  for (const block of blocks) {
    it(`${block.name} ${block.serves ? "serves" : "runs"} as written (${runtime})`, async () => {
      if (!block.serves) {
        const exit = await runToEnd(writeBlock(block, server && Number(new URL(server.url).port)));
        assert.equal(exit.code, 0, `${block.name} failed:\n${exit.output}`);
        return;
      }
      const port = await freePort();
      server = await serveBlock(writeBlock(block, undefined), port);
      stops.push(server.stop);
      await checkServer(block.name, server.url);
    });
  }
});

/** What each served example must do, over HTTP, with Herald's client. */
async function checkServer(name: string, url: string): Promise<void> {
  if (name === "server.ts") {
    const messages = await collect(url + "/", (m) => m.length === 2);
    assert.deepEqual(messages.map((m) => [m.event, m.id, m.data]), [
      ["tick", "1", '{"n":1}'],
      ["tick", "2", '{"n":2}'],
    ]);
    return;
  }
  if (name === "hub.ts") {
    let opened: () => void = () => {};
    const open = new Promise<void>((resolve) => (opened = resolve));
    const received = collect(url + "/lobby", (m) => m.length === 2, { onopen: () => opened() });
    await open;
    const published = await fetch(url + "/lobby", {
      method: "POST",
      body: JSON.stringify([{ data: "hi" }, { event: "note", data: { n: 2 } }]),
    });
    assert.equal(published.status, 200);
    assert.equal((await published.json()).ids.length, 2);
    const messages = await received;
    assert.deepEqual(messages.map((m) => [m.event, m.data]), [
      ["message", "hi"],
      ["note", '{"n":2}'],
    ]);
    return;
  }
  if (name === "answers.ts") {
    const started = await fetch(url + "/answers", {
      method: "POST",
      body: JSON.stringify({ question: "what is SSE?" }),
    });
    assert.equal(started.status, 200);
    const { stream } = await started.json();
    const isEnd = (m: SSEMessage) => m.event === "herald.end";
    const all = await collect(url + stream, (m) => m.some(isEnd));
    const tokens = all.filter((m) => m.event === "token");
    assert.equal(
      tokens.map((m) => m.data).join(""), // a string's data goes out as it is
      "You asked: what is SSE? ",
    );
    assert.equal(JSON.parse(all.find(isEnd)!.data).status, "done");
    // A reader that saw two tokens and reloads gets the rest, nothing repeated.
    const resumed = await collect(url + stream, (m) => m.some(isEnd), {
      lastEventId: tokens[1].id,
    });
    assert.deepEqual(
      resumed.filter((m) => m.event === "token").map((m) => m.data),
      tokens.slice(2).map((m) => m.data),
    );
    return;
  }
  assert.fail(`${name} serves, but this test has no check for it: add one`);
}
