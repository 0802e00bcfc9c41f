// `node:assert/strict` for runtimes that have none (Vercel's Edge runtime): the subset the suite
// uses, with the strict semantics (SameValue, prototypes and own keys compared).

/** Thrown by every failed assertion. */
export class AssertionError extends Error {
  actual: unknown;
  expected: unknown;
  constructor(message: string, actual?: unknown, expected?: unknown) {
    super(message);
    this.name = "AssertionError";
    this.actual = actual;
    this.expected = expected;
  }
}

type Message = string | Error | undefined;

function show(value: unknown): string {
  try {
    return typeof value === "string" ? JSON.stringify(value) : String(
      JSON.stringify(
        value,
        (_k, v) => typeof v === "bigint" ? `${v}n` : v === undefined ? "<undefined>" : v,
      ),
    );
  } catch {
    return String(value);
  }
}

function failWith(message: Message, fallback: string, actual?: unknown, expected?: unknown): never {
  if (message instanceof Error) throw message;
  throw new AssertionError(message ? `${message}\n${fallback}` : fallback, actual, expected);
}

function isDeepEqual(a: unknown, b: unknown, seen = new Map<object, object>()): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (a instanceof RegExp) return String(a) === String(b);
  if (ArrayBuffer.isView(a)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(
      (b as ArrayBufferView).buffer,
      (b as ArrayBufferView).byteOffset,
      (b as ArrayBufferView).byteLength,
    );
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (a instanceof Map) {
    const m = b as Map<unknown, unknown>;
    if (a.size !== m.size) return false;
    for (const [k, v] of a) if (!m.has(k) || !isDeepEqual(v, m.get(k), seen)) return false;
    return true;
  }
  if (a instanceof Set) {
    const s = b as Set<unknown>;
    if (a.size !== s.size) return false;
    for (const v of a) if (!s.has(v)) return false;
    return true;
  }
  if (a instanceof Error && (a.message !== (b as Error).message || a.name !== (b as Error).name)) {
    return false;
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  for (const key of keysA) {
    if (!Object.prototype.hasOwnProperty.call(b, key)) return false;
    if (
      !isDeepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], seen)
    ) {
      return false;
    }
  }
  return true;
}

type Expectation =
  | RegExp
  | ((error: unknown) => unknown)
  | (new (...args: never[]) => unknown)
  | object;

function checkThrown(error: unknown, expected: Expectation | undefined, message: Message): void {
  if (expected === undefined) return;
  if (expected instanceof RegExp) {
    if (!expected.test(String((error as Error)?.message ?? error))) {
      failWith(message, `The error ${show(String(error))} does not match ${expected}`);
    }
    return;
  }
  if (typeof expected === "function") {
    if (expected.prototype !== undefined && error instanceof (expected as new () => unknown)) {
      return;
    }
    if (Object.prototype.isPrototypeOf.call(Error, expected) || expected === Error) {
      failWith(message, `The error is not an instance of ${(expected as { name: string }).name}`);
    }
    if ((expected as (e: unknown) => unknown)(error) !== true) {
      failWith(message, "The validation function did not return true");
    }
    return;
  }
  for (const [key, value] of Object.entries(expected)) {
    const actual = (error as Record<string, unknown>)?.[key];
    const ok = value instanceof RegExp && typeof actual === "string"
      ? value.test(actual)
      : isDeepEqual(actual, value);
    if (!ok) failWith(message, `error.${key} is ${show(actual)}, expected ${show(value)}`);
  }
}

function ok(value: unknown, message?: Message): void {
  if (!value) failWith(message, `Expected a truthy value, got ${show(value)}`, value, true);
}

const methods = {
  AssertionError,
  ok,
  equal(actual: unknown, expected: unknown, message?: Message) {
    if (!Object.is(actual, expected)) {
      failWith(message, `Expected ${show(actual)} to be ${show(expected)}`, actual, expected);
    }
  },
  notEqual(actual: unknown, expected: unknown, message?: Message) {
    if (Object.is(actual, expected)) {
      failWith(message, `Expected a value other than ${show(expected)}`);
    }
  },
  deepEqual(actual: unknown, expected: unknown, message?: Message) {
    if (!isDeepEqual(actual, expected)) {
      failWith(
        message,
        `Expected values to be deeply equal:\n${show(actual)}\n${show(expected)}`,
        actual,
        expected,
      );
    }
  },
  notDeepEqual(actual: unknown, expected: unknown, message?: Message) {
    if (isDeepEqual(actual, expected)) failWith(message, `Expected values not to be deeply equal`);
  },
  match(text: string, pattern: RegExp, message?: Message) {
    if (!pattern.test(text)) failWith(message, `${show(text)} does not match ${pattern}`);
  },
  doesNotMatch(text: string, pattern: RegExp, message?: Message) {
    if (pattern.test(text)) failWith(message, `${show(text)} matches ${pattern}`);
  },
  fail(message?: Message): never {
    return failWith(message, "Failed");
  },
  throws(fn: () => unknown, expected?: Expectation | string, message?: Message) {
    if (typeof expected === "string") [message, expected] = [expected, undefined];
    try {
      fn();
    } catch (error) {
      checkThrown(error, expected, message);
      return;
    }
    failWith(message, "Missing expected exception");
  },
  doesNotThrow(fn: () => unknown, message?: Message) {
    try {
      fn();
    } catch (error) {
      failWith(message, `Got unwanted exception: ${show(String(error))}`);
    }
  },
  async rejects(
    promiseOrFn: Promise<unknown> | (() => Promise<unknown>),
    expected?: Expectation | string,
    message?: Message,
  ) {
    if (typeof expected === "string") [message, expected] = [expected, undefined];
    try {
      await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
    } catch (error) {
      checkThrown(error, expected, message);
      return;
    }
    failWith(message, "Missing expected rejection");
  },
  async doesNotReject(promiseOrFn: Promise<unknown> | (() => Promise<unknown>), message?: Message) {
    try {
      await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
    } catch (error) {
      failWith(message, `Got unwanted rejection: ${show(String(error))}`);
    }
  },
};
const assert = Object.assign(ok, methods, {
  strictEqual: methods.equal,
  deepStrictEqual: methods.deepEqual,
  notStrictEqual: methods.notEqual,
  notDeepStrictEqual: methods.notDeepEqual,
});

export const strict = assert;
export default assert;
