// A small `node:test` for workerd, which has no test runner: the shared suite is bundled with this
// module standing in for `node:test`, and the worker runs the collected tests when asked.

type Fn = () => unknown | Promise<unknown>;
interface TestOptions {
  skip?: boolean | string;
  todo?: boolean | string;
  timeout?: number;
  concurrency?: number | boolean;
}
interface Suite {
  name: string;
  skip: boolean;
  children: (Suite | Case)[];
  before: Fn[];
  after: Fn[];
  beforeEach: Fn[];
  afterEach: Fn[];
}
interface Case {
  name: string;
  fn: Fn;
  skip: boolean;
  timeoutMs: number;
}
/** One test's outcome, as the worker reports it. */
export interface CaseResult {
  name: string;
  status: "passed" | "failed" | "skipped";
  error?: string;
  ms: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const root: Suite = newSuite("", false);
let current = root;

function newSuite(name: string, skip: boolean): Suite {
  return { name, skip, children: [], before: [], after: [], beforeEach: [], afterEach: [] };
}

function split(a: unknown, b: unknown): [TestOptions, Fn | undefined] {
  if (typeof a === "function") return [{}, a as Fn];
  return [(a ?? {}) as TestOptions, b as Fn | undefined];
}

function skipped(options: TestOptions): boolean {
  return Boolean(options.skip) || Boolean(options.todo);
}

/** Called by the bundle's entry before each test file: the file's tests are grouped under it. */
export function startFile(name: string): void {
  current = root;
  describe(name, () => {});
  current = root.children[root.children.length - 1] as Suite;
}

export function describe(name: string, a?: unknown, b?: unknown): void {
  const [options, fn] = split(a, b);
  const suite = newSuite(name, skipped(options));
  current.children.push(suite);
  const parent = current;
  current = suite;
  try {
    fn?.();
  } finally {
    current = parent;
  }
}

export function it(name: string, a?: unknown, b?: unknown): void {
  const [options, fn] = split(a, b);
  current.children.push({
    name,
    fn: fn ?? (() => {}),
    skip: skipped(options) || !fn,
    timeoutMs: options.timeout ?? DEFAULT_TIMEOUT_MS,
  });
}

export const test = it;
export const suite = describe;
export const before = (fn: Fn) => void current.before.push(fn);
export const after = (fn: Fn) => void current.after.push(fn);
export const beforeEach = (fn: Fn) => void current.beforeEach.push(fn);
export const afterEach = (fn: Fn) => void current.afterEach.push(fn);
export default test;

function withTimeout(fn: Fn, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`test timed out after ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve().then(fn), timeout]).finally(() => clearTimeout(timer));
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}\n${error.stack ?? ""}`;
  return String(error);
}

async function runSuite(
  suite: Suite,
  path: string[],
  eachHooks: { before: Fn[]; after: Fn[] },
  skip: boolean,
  results: CaseResult[],
): Promise<void> {
  const isSkipped = skip || suite.skip;
  const hooks = {
    before: [...eachHooks.before, ...suite.beforeEach],
    after: [...suite.afterEach, ...eachHooks.after],
  };
  let setupError: unknown;
  if (!isSkipped) {
    try {
      for (const hook of suite.before) await hook();
    } catch (error) {
      setupError = error;
    }
  }
  for (const child of suite.children) {
    const name = [...path, child.name];
    if ("children" in child) {
      await runSuite(child, name, hooks, isSkipped, results);
      continue;
    }
    const fullName = name.join(" > ");
    if (isSkipped || child.skip) {
      results.push({ name: fullName, status: "skipped", ms: 0 });
      continue;
    }
    const started = Date.now();
    try {
      if (setupError) throw setupError;
      for (const hook of hooks.before) await hook();
      try {
        await withTimeout(child.fn, child.timeoutMs);
      } finally {
        for (const hook of hooks.after) await hook();
      }
      results.push({ name: fullName, status: "passed", ms: Date.now() - started });
    } catch (error) {
      results.push({
        name: fullName,
        status: "failed",
        error: describeError(error),
        ms: Date.now() - started,
      });
    }
  }
  if (!isSkipped) {
    try {
      for (const hook of suite.after) await hook();
    } catch (error) {
      results.push({
        name: [...path, "(after hook)"].join(" > "),
        status: "failed",
        error: describeError(error),
        ms: 0,
      });
    }
  }
}

/** Runs every registered test in order and returns their outcomes. */
export async function runRegisteredTests(): Promise<CaseResult[]> {
  current = root;
  const results: CaseResult[] = [];
  await runSuite(root, [], { before: [], after: [] }, false, results);
  return results;
}
