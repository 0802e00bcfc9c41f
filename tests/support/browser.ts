// Launches Debian's Chromium (/usr/bin/chromium) headless through playwright-core, for the
// end-to-end tests that compare Herald with what a real browser does. Never `playwright install`:
// this machine can't download browsers, and the system one is what we test against.
// Runs under the Deno and Bun hosts (node:* modules work in both).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** Where Debian installs Chromium; `tests/support/ensure_browser.mjs` installs it if missing. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** The flags every test browser starts with: quiet, no sandbox (containers), no GPU, no QUIC. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A running Chromium and how to get rid of it for sure. */
export interface LaunchedChromium {
  /** The browser's one context (persistent: Playwright only takes a profile folder that way). */
  context: BrowserContext;
  /** Opens a tab. */
  newPage(): Promise<Page>;
  /** The fresh profile folder, removed by `close()`. */
  userDataDir: string;
  /** Closes the browser; kills by PID whatever of it is left after 5 s; removes the profile. */
  close(): Promise<void>;
}

/** Whether Chromium is installed here (tests skip the browser comparison if not). */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/**
 * The PIDs of the processes started with our own profile folder on their command line: exactly
 * this browser's processes (the folder name is unique), never anyone else's Chromium.
 */
function pidsUsing(userDataDir: string): number[] {
  const pids: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return pids; // no /proc (not Linux): rely on browser.close()
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes(userDataDir)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked: nothing to kill.
    }
  }
  return pids;
}

/**
 * Starts a headless Chromium with a fresh temporary profile.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { launchChromium } from "./browser.ts";
 * const chromium = await launchChromium();
 * try {
 *   const page = await chromium.newPage();
 *   await page.setContent("<title>Herald</title><p>hi</p>");
 *   assert.equal(await page.title(), "Herald");
 *   assert.equal(await page.textContent("p"), "hi");
 * } finally {
 *   await chromium.close();
 * }
 * ```
 */
export async function launchChromium(
  options: { timeoutMs?: number } = {},
): Promise<LaunchedChromium> {
  const userDataDir = mkdtempSync(join(tmpdir(), "herald-chromium-"));
  const killLeftovers = () => {
    for (const pid of pidsUsing(userDataDir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone between the scan and the kill.
      }
    }
    rmSync(userDataDir, { recursive: true, force: true });
  };
  let context: BrowserContext;
  try {
    // Playwright refuses --user-data-dir in `args`: a persistent context is how it takes one.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      timeout: options.timeoutMs ?? 60_000,
    });
  } catch (error) {
    killLeftovers();
    throw error;
  }
  return {
    context,
    newPage: () => context.newPage(),
    userDataDir,
    async close() {
      await Promise.race([
        context.close().catch(() => {/* it died already: the PID sweep below finishes it */}),
        new Promise((resolve) => setTimeout(resolve, 5000)),
      ]);
      killLeftovers();
    },
  };
}
