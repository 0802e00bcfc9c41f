// Which runtime the suite is running on, so a test can say what it needs.

/** The runtimes the shared suite runs on. */
export type Runtime = "deno" | "bun" | "workerd" | "edge" | "other";

function detect(): Runtime {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.Deno === "object") return "deno";
  if (typeof g.Bun === "object") return "bun";
  if (typeof navigator !== "undefined" && navigator.userAgent === "Cloudflare-Workers") {
    return "workerd";
  }
  // Vercel's Edge runtime (and the edge-runtime package that emulates it) names itself here.
  if (typeof g.EdgeRuntime === "string") return "edge";
  return "other";
}

/** The runtime this suite is running on now. */
export const runtime: Runtime = detect();

/** Whether this runtime can start an HTTP server in-process (Deno and Bun can, workerd can't). */
export const canServe: boolean = runtime === "deno" || runtime === "bun";

/** Whether this runtime can start processes (the hosts of the e2e tests). */
export const canSpawn: boolean = runtime === "deno" || runtime === "bun";
