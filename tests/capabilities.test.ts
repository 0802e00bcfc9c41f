// What each runtime can do, as src/capabilities.ts decides it: the one place where runtime
// differences are settled. Checked on every runtime of the shared suite against what that runtime
// is known to do (see the flags' documentation), so a detection that breaks on a new runtime
// version fails here rather than as a leak or a lost disconnect elsewhere.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  cancelSignalsDisconnect,
  requestScopedIO,
  serverIdleTimeoutMs,
  timersCrossRequests,
} from "../src/capabilities.ts";
import { sseResponse } from "../mod.ts";
import { runtime } from "./support/runtime.ts";

const EXPECTED = {
  deno: { cancelSignalsDisconnect: true, timersCrossRequests: true, requestScopedIO: false },
  bun: { cancelSignalsDisconnect: true, timersCrossRequests: true, requestScopedIO: false },
  workerd: { cancelSignalsDisconnect: false, timersCrossRequests: false, requestScopedIO: true },
  edge: { cancelSignalsDisconnect: false, timersCrossRequests: false, requestScopedIO: false },
};

describe("runtime capabilities", () => {
  it("match what this runtime is known to do", { skip: runtime === "other" }, () => {
    const expected = EXPECTED[runtime as keyof typeof EXPECTED];
    assert.deepEqual(
      { cancelSignalsDisconnect, timersCrossRequests, requestScopedIO },
      expected,
    );
  });

  it("a server idle timeout only on Bun (Bun.serve's 10 s)", () => {
    assert.equal(serverIdleTimeoutMs, runtime === "bun" ? 10_000 : undefined);
  });

  it("the default keep-alive comes before the server's idle timeout", async () => {
    // With a clock that records timers, the first one a quiet stream arms is its keep-alive.
    const delays: number[] = [];
    const response = sseResponse(() => {}, {
      clock: {
        now: () => 0,
        setTimeout: (_fn, ms) => delays.push(ms),
        clearTimeout: () => {},
        random: () => 0,
      },
    });
    await response.body?.cancel();
    assert.equal(delays[0], runtime === "bun" ? 8_000 : 15_000);
    if (serverIdleTimeoutMs !== undefined) assert.ok(delays[0] < serverIdleTimeoutMs);
  });
});
