// The page served at `/`: the server's live counters as charts, the AI answer demo, an event log
// of any topics, and a publish form. One HTML document with its style and script inline (no build
// step, no request to another origin), put together here from page_html.ts, page_style.ts and
// page_script.ts, and served with a Content-Security-Policy that pins both by hash.
import { PAGE_BODY } from "./page_html.ts";
import { PAGE_SCRIPT } from "./page_script.ts";
import { PAGE_STYLE } from "./page_style.ts";

/**
 * The page's HTML document.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PAGE_HTML } from "./page.ts";
 * assert.ok(PAGE_HTML.startsWith("<!doctype html>"));
 * assert.equal(PAGE_HTML.match(/<script>/g)?.length, 1);
 * ```
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Herald · live</title>
<link rel="icon" href="data:,">
<style>${PAGE_STYLE}</style>
</head>
<body>
${PAGE_BODY}
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;

let policy: Promise<string> | undefined;

async function sha256Source(text: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  let binary = "";
  for (const byte of digest) binary += String.fromCharCode(byte);
  return `'sha256-${btoa(binary)}'`;
}

/**
 * The page's Content-Security-Policy: only its own inline script and style (by hash), requests
 * to its own origin, no framing. Event data is written with `textContent`, and the policy stops
 * anything injected from running even so.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pageContentSecurityPolicy } from "./page.ts";
 * const policy = await pageContentSecurityPolicy();
 * assert.match(policy, /script-src 'sha256-[A-Za-z0-9+/]+=*'/);
 * assert.match(policy, /connect-src 'self'/);
 * ```
 */
export function pageContentSecurityPolicy(): Promise<string> {
  policy ??= (async () =>
    [
      "default-src 'none'",
      `script-src ${await sha256Source(PAGE_SCRIPT)}`,
      `style-src ${await sha256Source(PAGE_STYLE)}`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join("; "))();
  return policy;
}
