import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { EventSource } from "eventsource";
import { expectedInterop, interopResponse } from "../support/interop_events.ts";
import { runtime } from "../support/runtime.ts";
import { serve } from "../support/serve.ts";
import { bundleForWorkerd, startWorkerd } from "../support/workerd_process.mjs";

const here = new URL(".", import.meta.url).pathname;

/** Receives the interop script with the `eventsource` npm package, until the `end` event. */
function receive(url: string): Promise<{ type: string; data: string; lastEventId: string }[]> {
  return new Promise((resolve, reject) => {
    const source = new EventSource(url);
    const seen: { type: string; data: string; lastEventId: string }[] = [];
    const timer = setTimeout(() => {
      source.close();
      reject(new Error(`timed out; received ${JSON.stringify(seen)}`));
    }, 15_000);
    const record = (event: MessageEvent) => {
      seen.push({ type: event.type, data: event.data, lastEventId: event.lastEventId });
      if (event.type === "end") {
        clearTimeout(timer);
        source.close();
        resolve(seen);
      }
    };
    source.onmessage = record;
    source.addEventListener("custom", record);
    source.addEventListener("end", record);
    source.onerror = (error) => {
      clearTimeout(timer);
      source.close();
      reject(new Error(`EventSource error: ${error.message ?? error.type}`));
    };
  });
}

describe(`SSEEncoderStream interop with the eventsource package (host: ${runtime})`, () => {
  it(`on ${runtime === "deno" ? "Deno.serve" : "Bun.serve"}: receives exactly what was sent`, async () => {
    const server = await serve(() => interopResponse());
    try {
      assert.deepEqual(await receive(server.url), expectedInterop());
    } finally {
      await server.close();
    }
  });

  describe("on workerd", { skip: runtime !== "deno" }, () => {
    let worker: Awaited<ReturnType<typeof startWorkerd>> | undefined;
    after(() => worker?.stop());

    it("receives exactly what was sent", async () => {
      const module = bundleForWorkerd(
        join(here, "workers", "interop_encoder.ts"),
        join(here, "..", ".out", "workers", "interop_encoder.js"),
      );
      worker = await startWorkerd({ module });
      assert.deepEqual(await receive(worker.url), expectedInterop());
    });
  });
});
