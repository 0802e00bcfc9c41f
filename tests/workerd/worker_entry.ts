// The worker that runs the shared suite inside workerd. The build script puts the test files'
// imports in front of this module; GET /run runs them and answers with one JSON result per test.
import { runRegisteredTests } from "./node_test_shim.ts";

function runtimeName(): string {
  const g = globalThis as { EdgeRuntime?: string; navigator?: { userAgent?: string } };
  if (typeof g.EdgeRuntime === "string") return `Vercel Edge (${g.EdgeRuntime})`;
  return g.navigator?.userAgent ?? "unknown";
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/run") return new Response("not found", { status: 404 });
    const results = await runRegisteredTests();
    return Response.json({ runtime: runtimeName(), results });
  },
};
