// The reference server's Vercel Edge entry, wrapped for the `edge-runtime` package, which
// dispatches `fetch` events the service-worker way. Bundled as an IIFE by
// tests/support/reference_server.ts and run by tests/support/edge_host.mjs.
import handler from "../../../examples/server/vercel_edge.ts";

interface FetchEventLike {
  request: Request;
  respondWith(response: Response | Promise<Response>): void;
  waitUntil(work: Promise<unknown>): void;
}

(globalThis as unknown as {
  addEventListener(type: "fetch", listener: (event: FetchEventLike) => void): void;
}).addEventListener("fetch", (event) => {
  event.respondWith(handler(event.request, { waitUntil: (work) => event.waitUntil(work) }));
});
