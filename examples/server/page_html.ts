// The page's markup: what a person sees at `/`. Behaviour is in page_script.ts, looks in
// page_style.ts; page.ts puts the three together. Every control has a label, every state is
// text (not only colour), and nothing here loads from another origin.

/** The repository (package.json's `repository`): the README, the guides in docs/, this server. */
export const REPOSITORY_URL = "https://github.com/herald-sse/herald";
/** The API reference, generated from the JSDoc of every export. */
export const API_REFERENCE_URL = "https://jsr.io/@herald/sse/doc";

/**
 * The `<body>` of the page, without the script.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PAGE_BODY } from "./page_html.ts";
 * assert.match(PAGE_BODY, /<section id="live"/);
 * assert.match(PAGE_BODY, /<label[^>]*for="prompt"/);
 * ```
 */
export const PAGE_BODY = /* html */ `<div class="page">
<header class="top">
  <div>
    <h1>Herald</h1>
    <p class="tagline">Server-Sent Events with exact resume, for Deno, Bun and the edge. This page
    is served by Herald's reference server and talks only to its HTTP API.</p>
  </div>
  <nav class="links" aria-label="Documentation">
    <a href="${REPOSITORY_URL}#readme">Docs</a>
    <a href="${API_REFERENCE_URL}">API reference</a>
    <a href="${REPOSITORY_URL}/blob/main/examples/server/README.md">This server's API</a>
    <a href="${REPOSITORY_URL}/blob/main/docs/deploy.md">Deploy</a>
    <a href="/metrics">Metrics</a>
  </nav>
</header>

<section id="auth" class="notice" aria-label="Access">
  <p id="auth-status" aria-live="polite">Checking for a development session…</p>
  <div id="auth-manual" hidden>
    <form class="row" id="auth-form">
      <div class="field wide"><label for="token">Subscriber token</label>
        <input id="token" type="text" autocomplete="off" spellcheck="false"
          placeholder="deno task mint-token --topics '*'"></div>
      <div class="field"><label for="publisher-key">Publisher key</label>
        <input id="publisher-key" type="text" autocomplete="off" spellcheck="false"></div>
    </form>
  </div>
</section>

<main>
<section id="live" class="card" aria-labelledby="live-title">
  <div class="head">
    <h2 id="live-title">This server, live</h2>
    <span id="live-state" class="pill" data-state="connecting">connecting</span>
  </div>
  <p class="muted">Its own counters, streamed to this page over SSE
  (<code>GET /v1/stats</code>, one event a second). Publish below, or open a second tab, and
  watch them move.</p>
  <div class="charts">
    <figure class="chart" id="chart-open">
      <figcaption><span>Open streams</span><span class="value" id="value-open">–</span></figcaption>
      <svg viewBox="0 0 100 40" preserveAspectRatio="none" role="img"
        aria-label="Open streams over the last 30 seconds"><line class="base" x1="0" y1="40"
        x2="100" y2="40"/><path/><polyline/></svg>
      <div class="sub" id="sub-open">&nbsp;</div>
    </figure>
    <figure class="chart" id="chart-delivered">
      <figcaption><span>Deliveries/s</span><span class="value" id="value-delivered">–</span>
      </figcaption>
      <svg viewBox="0 0 100 40" preserveAspectRatio="none" role="img"
        aria-label="Events delivered per second over the last 30 seconds"><line class="base"
        x1="0" y1="40" x2="100" y2="40"/><path/><polyline/></svg>
      <div class="sub" id="sub-delivered">&nbsp;</div>
    </figure>
    <figure class="chart" id="chart-published">
      <figcaption><span>Publishes/s</span><span class="value" id="value-published">–</span>
      </figcaption>
      <svg viewBox="0 0 100 40" preserveAspectRatio="none" role="img"
        aria-label="Events published per second over the last 30 seconds"><line class="base"
        x1="0" y1="40" x2="100" y2="40"/><path/><polyline/></svg>
      <div class="sub" id="sub-published">&nbsp;</div>
    </figure>
    <figure class="chart" id="chart-drops">
      <figcaption><span>Drops</span><span class="value" id="value-drops">–</span></figcaption>
      <svg viewBox="0 0 100 40" preserveAspectRatio="none" role="img"
        aria-label="Slow clients dropped per second over the last 30 seconds"><line class="base"
        x1="0" y1="40" x2="100" y2="40"/><path/><polyline/></svg>
      <div class="sub" id="sub-drops">&nbsp;</div>
    </figure>
  </div>
</section>

<section id="ai" class="card" aria-labelledby="ai-title">
  <div class="head">
    <h2 id="ai-title">AI answer</h2>
    <span id="answer-state" class="pill" data-state="idle" role="status">idle</span>
  </div>
  <p class="muted">A simulated model answers token by token into a resumable stream. Reload in the
  middle: it continues from the exact token. Reload after the end: the whole answer is replayed and
  the browser stops (204). Close every tab: the server cancels the answer nobody watches.</p>
  <form class="row" id="ask-form">
    <div class="field wide"><label for="prompt">Prompt</label>
      <input id="prompt" type="text" maxlength="200" value="How does Herald resume a stream?"
        autocomplete="off"></div>
    <button id="ask" type="submit">Ask</button>
    <button id="stop" type="button" class="secondary" disabled>Stop</button>
  </form>
  <p id="answer-progress" class="muted" aria-live="polite"></p>
  <div id="answer" data-state="idle"></div>
</section>

<div class="grid">
<section id="subscribe" class="card" aria-labelledby="subscribe-title">
  <div class="head">
    <h2 id="subscribe-title">Events</h2>
    <span id="state" class="pill" data-state="idle" role="status">idle</span>
  </div>
  <form class="row" id="subscribe-form">
    <div class="field wide"><label for="topics">Topics (comma-separated)</label>
      <input id="topics" type="text" value="demo" autocomplete="off" spellcheck="false"></div>
    <button id="connect" type="submit">Connect</button>
    <button id="disconnect" type="button" class="secondary">Disconnect</button>
  </form>
  <div id="subscribe-error" class="error" role="alert"></div>
  <div class="row muted between"><span id="log-count">0 events</span>
    <button id="clear" type="button" class="secondary small">Clear</button></div>
  <div id="log-wrap"><ol id="log" aria-label="Events received"></ol></div>
</section>

<section id="publish" class="card" aria-labelledby="publish-title">
  <div class="head"><h2 id="publish-title">Publish</h2></div>
  <form id="publish-form">
    <div class="row">
      <div class="field"><label for="publish-topic">Topic</label>
        <input id="publish-topic" type="text" value="demo" autocomplete="off"></div>
      <div class="field"><label for="publish-event">Event name (optional)</label>
        <input id="publish-event" type="text" value="" placeholder="message" autocomplete="off">
      </div>
    </div>
    <div class="row">
      <div class="field wide"><label for="publish-data">Data (JSON, or plain text)</label>
        <input id="publish-data" type="text" value='{"hello":"world"}' autocomplete="off"></div>
    </div>
    <div class="row"><button id="publish-button" type="submit">Publish</button></div>
  </form>
  <p id="publish-result" class="muted" aria-live="polite"></p>
  <p class="muted">Each event is stored with an id. A client that reconnects with the last id it
  saw gets exactly what it missed, and a name other than <code>message</code> shows in the log as
  it is. Publishing from code: <a href="${REPOSITORY_URL}/blob/main/examples/server/README.md">the
  server's API</a>.</p>
</section>
</div>
</main>

<footer>Herald reference server · no framework, no build step, nothing loaded from elsewhere.</footer>
</div>`;
