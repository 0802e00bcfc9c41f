// A TCP proxy on 127.0.0.1 that cuts connections mid-stream: each connection gets a random budget
// of bytes from the server, and when a chunk crosses it, only the part within the budget goes to
// the client before the connection is dropped (a FIN or a reset). So a client sees what a dropped
// mobile connection gives it: a response cut anywhere, inside an event, inside a UTF-8 character, inside the
// headers. Runs on Deno and Bun (node:net).
import { createServer, type Server, type Socket } from "node:net";
import { connect as connectTcp } from "node:net";
import type { Random } from "./random.ts";

/** Options of {@link startChaosProxy}. */
export interface ChaosProxyOptions {
  /** Where connections go, e.g. a hub server on 127.0.0.1. */
  targetPort: number;
  targetHost?: string;
  /** The source of cut positions (seeded, so a failure replays). */
  random: Random;
  /** A connection is cut after between `min` and `max` bytes from the server. */
  cutAfterBytes: { min: number; max: number };
  /** Connections cut at most this many times in all; later ones pass untouched. Default ∞. */
  maxCuts?: number;
  /**
   * Lose replies: a request whose bytes match `pattern` goes to the server, and when its reply
   * starts the client's connection is dropped with nothing of it forwarded. The server did the
   * work; the client's fetch fails as if the network had, and a client that retries sends it
   * again. At most `times` replies.
   */
  loseReplyTo?: { pattern: RegExp; times: number; probability?: number };
}

/** A running proxy, from {@link startChaosProxy}. */
export interface ChaosProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections cut so far. */
  readonly cuts: number;
  /** Replies lost so far (`loseReplyTo`). */
  readonly lostReplies: number;
  /**
   * From now on, loses the replies of requests matching `pattern`, each with `probability`
   * (default 1), `times` replies in all.
   */
  loseReplies(pattern: RegExp, times: number, probability?: number): void;
  /** Turns cutting on or off for the connections that open from now on. */
  cutting: boolean;
  /** Closes every connection and stops listening. */
  stop(): Promise<void>;
}

/**
 * Starts a cutting proxy in front of `targetPort`.
 *
 * @example
 * ```ts ignore
 * const proxy = await startChaosProxy({
 *   targetPort: 8000, random: seededRandom(1), cutAfterBytes: { min: 200, max: 2000 },
 * });
 * // connect(proxy.url + "/events") now drops at random and must resume by itself.
 * await proxy.stop();
 * ```
 */
export function startChaosProxy(options: ChaosProxyOptions): Promise<ChaosProxy> {
  const host = options.targetHost ?? "127.0.0.1";
  const maxCuts = options.maxCuts ?? Infinity;
  const sockets = new Set<Socket>();
  let connections = 0;
  let cuts = 0;
  let lostReplies = 0;
  let lose = options.loseReplyTo && { ...options.loseReplyTo };
  const decoder = new TextDecoder("latin1");
  const proxy = { cutting: true } as ChaosProxy;

  const server: Server = createServer((client) => {
    connections++;
    const { min, max } = options.cutAfterBytes;
    const budget = proxy.cutting && cuts < maxCuts
      ? min + options.random.int(Math.max(1, max - min + 1))
      : Infinity;
    let passed = 0;
    let cut = false;
    const upstream = connectTcp({ host, port: options.targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const forget = () => {
      sockets.delete(client);
      sockets.delete(upstream);
    };
    const destroyBoth = () => {
      client.destroy();
      upstream.destroy();
      forget();
    };
    // The request bytes seen since the last reply (a small window: a match may span chunks).
    let requestTail = "";
    let loseNextReply = false;
    client.on("data", (chunk: Uint8Array) => {
      if (cut) return;
      if (lose && lose.times > 0) {
        requestTail = (requestTail + decoder.decode(chunk)).slice(-64 * 1024);
        if (lose.pattern.test(requestTail)) {
          loseNextReply = options.random.next() < (lose.probability ?? 1);
          requestTail = "";
        }
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Uint8Array) => {
      if (cut) return;
      if (loseNextReply && lose && lose.times > 0) {
        cut = true;
        lostReplies++;
        lose.times--;
        destroyBoth();
        return;
      }
      requestTail = "";
      if (passed + chunk.length <= budget) {
        passed += chunk.length;
        client.write(chunk);
        return;
      }
      // The chunk crosses the budget: deliver its head, then drop the connection, mostly with
      // a FIN after the head (a body that ends mid-event), a quarter of the time with a
      // reset (which also discards what the client's kernel held unread: a harsher drop).
      cut = true;
      cuts++;
      const head = chunk.subarray(0, budget - passed);
      passed = budget;
      const drop = options.random.next() < 0.25 ? destroyBoth : () => {
        // Not through destroyBoth: the client's side must close with a FIN, after its bytes.
        upstream.removeAllListeners("close");
        upstream.removeAllListeners("error");
        upstream.on("error", () => {});
        upstream.destroy();
        client.end();
      };
      if (head.length > 0) client.write(head, drop);
      else drop();
    });
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.on("error", destroyBoth);
    upstream.on("error", destroyBoth);
    client.on("close", destroyBoth);
    upstream.on("close", destroyBoth);
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      Object.defineProperties(proxy, {
        url: { value: `http://127.0.0.1:${port}` },
        port: { value: port },
        connections: { get: () => connections },
        cuts: { get: () => cuts },
        lostReplies: { get: () => lostReplies },
        loseReplies: {
          value: (pattern: RegExp, times: number, probability = 1) => {
            lose = { pattern, times, probability };
          },
        },
      });
      proxy.stop = () =>
        new Promise<void>((done) => {
          for (const socket of sockets) socket.destroy();
          sockets.clear();
          server.close(() => done());
        });
      resolve(proxy);
    });
  });
}
