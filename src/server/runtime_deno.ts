// Deno specifics, in one place. Deno.serve fires the body's cancel() the moment a client
// disconnects (the same moment `request.signal` aborts), so the response does not need the
// request's signal there. And it should not touch it: Deno 2.9 aborts `request.signal` after every
// *successful* response too ("legacy behavior"), and reading the property makes it print a
// deprecation warning. So on Deno `sseResponse` leaves `request.signal` alone.

/** Whether this code runs on Deno. */
export const onDeno: boolean = typeof (globalThis as { Deno?: unknown }).Deno === "object";
