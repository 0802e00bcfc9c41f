// The smallest Herald server: a clock as an event stream, one `tick` a second, each with an id, so
// a client that reconnects (a browser's EventSource does it by itself) continues after the last
// tick it saw. A module with a default `fetch`, which every runtime serves as it is:
//   deno serve --allow-net examples/clock.ts      http://localhost:8000/
//   bun examples/clock.ts                         http://localhost:3000/
//   a Cloudflare Workers module
// Then: curl -N http://localhost:8000/ (or open it in a browser).
import { sseResponse } from "@herald/sse";

/** The events of this stream: the map gives `stream.send` its types. */
type Events = { tick: { n: number; time: string } };

export default {
  fetch(request: Request): Response {
    return sseResponse<Events>(async (stream) => {
      // Last-Event-ID: the id of the last tick this client received before it reconnected.
      let n = Number(stream.lastEventId) || 0;
      while (!stream.signal.aborted) {
        n++;
        await stream.send({
          event: "tick",
          id: String(n),
          data: { n, time: new Date().toISOString() },
        });
        // Waits end when the stream closes: on Workers a timer of a finished request never fires.
        await Promise.race([stream.closed, new Promise((resolve) => setTimeout(resolve, 1_000))]);
      }
    }, {
      request,
      retryMs: 2_000, // how long a client waits before reconnecting
      // Keep-alive comments go out every 15 s (8 s on Bun, under its 10 s idle timeout) by default.
    });
  },
};
