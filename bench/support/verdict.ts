// One line per target, in one format every bench file prints and bench/run.mjs collects into the
// closing table of `npm run bench`:
//   VERDICT <name> <ratio>x <op><target>x met|missed [note]
// e.g. `VERDICT fanout.cpu.bun.1k 1.31x <=1.20x missed hub/minimal CPU per delivery`.
// <name> has no spaces (dots between its parts); the ratio and target have two decimals.

/**
 * Prints a target's verdict line and returns whether it was met.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { verdict } from "./verdict.ts";
 * assert.equal(verdict("example.ratio", 1.1, "<=", 1.2, "a ratio of medians"), true);
 * ```
 */
export function verdict(
  name: string,
  ratio: number,
  op: "<=" | ">=" | "<" | ">",
  target: number,
  note = "",
): boolean {
  const met = op === "<="
    ? ratio <= target
    : op === ">="
    ? ratio >= target
    : op === "<"
    ? ratio < target
    : ratio > target;
  const shown = Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : "n/a";
  console.log(
    `VERDICT ${name.replaceAll(/\s+/g, "_")} ${shown} ${op}${target.toFixed(2)}x ${
      met ? "met" : "missed"
    }${note ? ` ${note}` : ""}`,
  );
  return met;
}
