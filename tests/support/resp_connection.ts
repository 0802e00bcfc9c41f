// A small RESP2 client over node:net for the test infrastructure (the Upstash REST test server and
// the redis-server launcher). Commands are pipelined: a batch is written in one `write`, so no other
// caller's command can land between them (what makes MULTI … EXEC on a shared connection atomic).
// Bulk strings stay bytes (`Uint8Array`) so a caller can base64 them exactly as Redis stored them.
import { createConnection, type Socket } from "node:net";

/** A RESP error reply (`-ERR …`), kept as a value: inside arrays it is data, not a failure. */
export class RespError {
  constructor(readonly message: string) {}
}

/**
 * A parsed RESP2 reply: simple string → `string`, bulk string → `Uint8Array`, integer → `number`,
 * null bulk / null array → `null`, array → `RespValue[]`, error → {@link RespError}.
 */
export type RespValue = string | number | null | Uint8Array | RespError | RespValue[];

/** A command argument as sent on the wire (strings are UTF-8 encoded). */
export type RespArgument = string | Uint8Array;

/** Thrown when the connection to Redis fails or is closed while a reply is awaited. */
export class RespConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RespConnectionError";
  }
}

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");

/** Encodes commands as RESP arrays of bulk strings, concatenated into one buffer. */
export function encodeCommands(commands: readonly (readonly RespArgument[])[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const command of commands) {
    parts.push(encoder.encode(`*${command.length}\r\n`));
    for (const argument of command) {
      const bytes = typeof argument === "string" ? encoder.encode(argument) : argument;
      parts.push(encoder.encode(`$${bytes.length}\r\n`), bytes, CRLF);
    }
  }
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Incremental RESP2 reply parser: feed it bytes, it returns every reply completed so far.
 * Partial replies wait for more bytes (a reply may be split anywhere, even inside "\r\n").
 * Resumable: the elements of a large array already parsed are kept, not parsed again when the
 * next chunk arrives (re-parsing from the start made a 10k-entry XRANGE take seconds).
 */
export class RespParser {
  #buffer = new Uint8Array(0);
  #offset = 0;
  /** Arrays being filled, innermost last. */
  #stack: { items: RespValue[]; remaining: number }[] = [];

  push(chunk: Uint8Array): RespValue[] {
    const rest = this.#buffer.subarray(this.#offset);
    const joined = new Uint8Array(rest.length + chunk.length);
    joined.set(rest, 0);
    joined.set(chunk, rest.length);
    this.#buffer = joined;
    this.#offset = 0;
    const replies: RespValue[] = [];
    for (;;) {
      const parsed = this.#element(this.#offset);
      if (parsed === undefined) break;
      this.#offset = parsed.end;
      let value: RespValue | undefined = parsed.value;
      if (parsed.arrayLength !== undefined) {
        this.#stack.push({ items: [], remaining: parsed.arrayLength });
        value = undefined;
      }
      // Close every array this element completes (an empty array completes at once).
      for (;;) {
        const top = this.#stack.at(-1);
        if (top === undefined) {
          if (value !== undefined) replies.push(value);
          break;
        }
        if (value !== undefined) {
          top.items.push(value);
          top.remaining--;
        }
        if (top.remaining > 0) break;
        this.#stack.pop();
        value = top.items;
      }
    }
    return replies;
  }

  #line(start: number): { text: string; end: number } | undefined {
    const buffer = this.#buffer;
    for (let i = start; i + 1 < buffer.length; i++) {
      if (buffer[i] === 13 && buffer[i + 1] === 10) {
        return { text: bytesToText(buffer.subarray(start, i)), end: i + 2 };
      }
    }
    return undefined;
  }

  /** One element: a complete scalar, or the header of a non-null array (`arrayLength`). */
  #element(
    start: number,
  ): { value: RespValue; end: number; arrayLength?: number } | undefined {
    if (start >= this.#buffer.length) return undefined;
    const type = this.#buffer[start];
    const line = this.#line(start + 1);
    if (line === undefined) return undefined;
    switch (type) {
      case 43: // '+'
        return { value: line.text, end: line.end };
      case 45: // '-'
        return { value: new RespError(line.text), end: line.end };
      case 58: // ':'
        return { value: Number(line.text), end: line.end };
      case 36: { // '$'
        const length = Number(line.text);
        if (length < 0) return { value: null, end: line.end };
        if (line.end + length + 2 > this.#buffer.length) return undefined;
        // A copy: the buffer is replaced on the next push.
        const bytes = this.#buffer.slice(line.end, line.end + length);
        return { value: bytes, end: line.end + length + 2 };
      }
      case 42: { // '*'
        const count = Number(line.text);
        if (count < 0) return { value: null, end: line.end };
        return { value: null, end: line.end, arrayLength: count };
      }
      default:
        throw new RespConnectionError(
          `Unexpected RESP type byte ${type}: the peer does not speak RESP2 (is it redis-server?)`,
        );
    }
  }
}

/** Where to connect: parsed from a `redis://host:port` URL. */
export function parseRedisUrl(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:") {
    throw new RespConnectionError(`Expected a redis://host:port URL, got ${url}`);
  }
  return { host: parsed.hostname || "127.0.0.1", port: Number(parsed.port || 6379) };
}

/**
 * One TCP connection to Redis. `send` pipelines; replies are matched to callers in order.
 * In subscriber mode (after {@link RespConnection.onPush} is set) every reply goes to the handler.
 */
export class RespConnection {
  readonly #socket: Socket;
  readonly #parser = new RespParser();
  readonly #pending: { resolve(value: RespValue): void; reject(error: unknown): void }[] = [];
  #closed = false;
  #closeError: RespConnectionError | undefined;
  #onPush: ((value: RespValue) => void) | undefined;
  #onClose: ((error: RespConnectionError | undefined) => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => this.#receive(chunk));
    socket.on("error", (error: Error) => {
      this.#fail(
        new RespConnectionError(`Redis connection error: ${error.message}`, {
          cause: error,
        }),
      );
    });
    socket.on("close", () => {
      this.#fail(new RespConnectionError("Redis closed the connection"));
    });
  }

  /** Opens a connection to `redis://host:port`; rejects if nothing accepts within `timeoutMs`. */
  static connect(url: string, timeoutMs = 5000): Promise<RespConnection> {
    const { host, port } = parseRedisUrl(url);
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RespConnectionError(`No answer from Redis at ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once("error", (error: Error) => {
        clearTimeout(timer);
        reject(
          new RespConnectionError(`Cannot connect to Redis at ${url}: ${error.message}`, {
            cause: error,
          }),
        );
      });
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(new RespConnection(socket));
      });
    });
  }

  /** Whether the connection is closed (by either side); a closed connection can't be reused. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends commands in one write; resolves with one reply per command, errors as values. */
  send(commands: readonly (readonly RespArgument[])[]): Promise<RespValue[]> {
    if (this.#closed) {
      return Promise.reject(
        this.#closeError ?? new RespConnectionError("The Redis connection is closed"),
      );
    }
    const replies = commands.map(() =>
      new Promise<RespValue>((resolve, reject) => this.#pending.push({ resolve, reject }))
    );
    this.#socket.write(encodeCommands(commands));
    return Promise.all(replies);
  }

  /** Writes commands without awaiting replies: for subscriber mode, where replies are pushes. */
  write(commands: readonly (readonly RespArgument[])[]): void {
    if (this.#closed) {
      throw this.#closeError ?? new RespConnectionError("The Redis connection is closed");
    }
    this.#socket.write(encodeCommands(commands));
  }

  /** Sends one command; resolves with its reply (a {@link RespError} is returned, not thrown). */
  async command(...args: RespArgument[]): Promise<RespValue> {
    const [reply] = await this.send([args]);
    return reply;
  }

  /** Switches to subscriber mode: every reply (pushes included) goes to `handler`. */
  onPush(handler: (value: RespValue) => void): void {
    this.#onPush = handler;
  }

  /** Called once when the connection closes; `error` is undefined after a local `close()`. */
  onClose(handler: (error: RespConnectionError | undefined) => void): void {
    this.#onClose = handler;
  }

  /** Closes the connection; pending replies reject. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    this.#rejectPending(new RespConnectionError("The Redis connection was closed locally"));
    this.#onClose?.(undefined);
  }

  #receive(chunk: Uint8Array): void {
    let replies: RespValue[];
    try {
      replies = this.#parser.push(chunk);
    } catch (error) {
      this.#fail(error as RespConnectionError);
      this.#socket.destroy();
      return;
    }
    for (const reply of replies) {
      if (this.#onPush) {
        this.#onPush(reply);
        continue;
      }
      const waiter = this.#pending.shift();
      if (waiter === undefined) {
        this.#fail(new RespConnectionError("Redis sent a reply nobody asked for"));
        this.#socket.destroy();
        return;
      }
      waiter.resolve(reply);
    }
  }

  #fail(error: RespConnectionError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    this.#rejectPending(error);
    this.#onClose?.(error);
  }

  #rejectPending(error: RespConnectionError): void {
    for (const waiter of this.#pending.splice(0)) waiter.reject(error);
  }
}

const decoder = new TextDecoder();

/** A reply as text: bulk strings decoded as UTF-8, simple strings as they are. */
export function replyText(value: RespValue): string {
  if (value instanceof Uint8Array) return bytesToText(value);
  if (typeof value === "string") return value;
  return String(value);
}

/** UTF-8 bytes as text. Short ASCII skips TextDecoder, which costs an op call per string on Deno
 * (a 10k-entry XRANGE is ~40k strings). */
export function bytesToText(bytes: Uint8Array): string {
  if (bytes.length <= 64) {
    let text = "";
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i];
      if (byte >= 0x80) return decoder.decode(bytes);
      text += String.fromCharCode(byte);
    }
    return text;
  }
  return decoder.decode(bytes);
}
