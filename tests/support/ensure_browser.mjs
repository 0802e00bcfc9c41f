// End-to-end tests drive Debian's Chromium through playwright-core (never `playwright install`,
// which downloads a browser this network can't reach). This installs it with apt when missing.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** The browser the end-to-end tests launch. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Installs Debian's chromium if it is missing and we are root; says why not otherwise. */
export function ensureBrowser() {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.HERALD_SKIP_BROWSER_INSTALL) return false;
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    console.warn(`${CHROMIUM_PATH} is missing; install it: sudo apt-get install -y chromium`);
    return false;
  }
  console.log("\n$ apt-get install -y chromium (for the browser end-to-end tests)");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  spawnSync("apt-get", ["update", "-q"], { stdio: "inherit", env });
  const result = spawnSync("apt-get", [
    "install",
    "-y",
    "-q",
    "--no-install-recommends",
    "chromium",
  ], {
    stdio: "inherit",
    env,
  });
  return result.status === 0 && existsSync(CHROMIUM_PATH);
}
