// The export list test: every entry point is imported (on Deno, Bun, workerd and Vercel Edge, as
// the shared suite runs there) and exports exactly the values tests/public_api_surface.ts lists.
// The types are pinned by tests/e2e/public_api_types.test.ts, which needs the file system.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as root from "../mod.ts";
import * as protocol from "../protocol.ts";
import * as server from "../server.ts";
import * as client from "../client.ts";
import * as hub from "../hub.ts";
import * as broker from "../broker.ts";
import * as bun from "../bun.ts";
import * as hono from "../hono.ts";
import * as upstash from "../upstash.ts";
import { PUBLIC_SURFACE } from "./public_api_surface.ts";

const ENTRIES: Record<string, Record<string, unknown>> = {
  ".": root,
  "./protocol": protocol,
  "./server": server,
  "./client": client,
  "./hub": hub,
  "./broker": broker,
  "./bun": bun,
  "./hono": hono,
  "./upstash": upstash,
};

describe("public API", () => {
  it("covers every entry point of the package", () => {
    assert.deepEqual(Object.keys(ENTRIES).sort(), Object.keys(PUBLIC_SURFACE).sort());
  });

  for (const [subpath, module] of Object.entries(ENTRIES)) {
    it(`${subpath} exports exactly its listed values`, () => {
      const expected = [...(PUBLIC_SURFACE[subpath]?.values ?? [])].sort();
      assert.deepEqual(Object.keys(module).sort(), expected);
      for (const name of expected) {
        assert.notEqual(module[name], undefined, `${subpath} exports ${name} as undefined`);
      }
    });
  }

  it("a name exported by several entry points is the same thing in each", () => {
    const seen = new Map<string, unknown>();
    for (const [subpath, module] of Object.entries(ENTRIES)) {
      for (const [name, value] of Object.entries(module)) {
        if (seen.has(name)) assert.equal(value, seen.get(name), `${name} in ${subpath}`);
        else seen.set(name, value);
      }
    }
  });

  it("every error class derives from HeraldError", () => {
    for (const module of Object.values(ENTRIES)) {
      for (const [name, value] of Object.entries(module)) {
        if (!name.endsWith("Error")) continue;
        assert.equal(typeof value, "function", name);
        assert.ok(
          (value as { prototype: unknown }).prototype instanceof root.HeraldError ||
            value === root.HeraldError,
          `${name} extends HeraldError`,
        );
      }
    }
  });
});
