// The page served at `/`: subscribe to topics, watch events arrive with their ids, publish from a
// form, see the connection state, and the "AI answer" demo. It uses the browser's native
// EventSource, so resuming by Last-Event-ID is the browser's own. No build step, no framework:
// one HTML document with its script inline, embedded here as a string.

/**
 * The page's HTML. The script talks to the server's API only:
 * `GET /v1/dev/session` (dev mode: a cookie with a token for every topic, and the dev publisher
 * key), `GET /v1/events`, `POST /v1/topics/:topic`, `POST /v1/demo/answers`.
 *
 * @example
 * ```ts
 * import { PAGE_HTML } from "./page.ts";
 * console.log(PAGE_HTML.startsWith("<!doctype html>")); // true
 * ```
 */
export const PAGE_HTML = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald</title>
<link rel="icon" href="data:,">
<style>
  :root { font-family: system-ui, sans-serif; color: #1b1f24; background: #f6f7f9; }
  body { max-width: 980px; margin: 0 auto; padding: 16px; }
  h1 { font-size: 1.4rem; margin: 0 0 4px; }
  h2 { font-size: 1.05rem; margin: 0 0 8px; }
  section { background: #fff; border: 1px solid #d8dde3; border-radius: 8px; padding: 12px 14px;
    margin: 12px 0; }
  label { display: inline-block; margin: 4px 8px 4px 0; font-size: .9rem; }
  input, textarea, button { font: inherit; font-size: .9rem; }
  input[type=text], textarea { border: 1px solid #b8c0c8; border-radius: 4px; padding: 4px 6px; }
  button { border: 1px solid #3a6ea5; background: #3a6ea5; color: #fff; border-radius: 4px;
    padding: 4px 12px; cursor: pointer; }
  button.secondary { background: #fff; color: #3a6ea5; }
  .state { display: inline-block; padding: 2px 8px; border-radius: 10px; font-size: .85rem;
    background: #e4e7eb; }
  .state[data-state=open] { background: #c9f2d0; }
  .state[data-state=connecting], .state[data-state=reconnecting] { background: #fde9b8; }
  .state[data-state=closed] { background: #f6c6c6; }
  table { border-collapse: collapse; width: 100%; font-size: .85rem; }
  td, th { text-align: left; border-bottom: 1px solid #eceff2; padding: 3px 6px;
    vertical-align: top; }
  td.id { font-family: ui-monospace, monospace; color: #5a6570; white-space: nowrap; }
  td.data { font-family: ui-monospace, monospace; word-break: break-all; }
  tr.lost td { background: #fff1d6; }
  #log-wrap { max-height: 320px; overflow: auto; }
  #answer { white-space: pre-wrap; line-height: 1.5; min-height: 3em; padding: 8px;
    background: #fafbfc; border: 1px dashed #cfd5db; border-radius: 6px; }
  .muted { color: #5a6570; font-size: .85rem; }
  .error { color: #a11; font-size: .85rem; }
</style>
</head>
<body>
<h1>Herald</h1>
<p class="muted">Server-Sent Events with exact resume. This page uses the browser's own
EventSource: every event carries an id, and a reconnect resumes after the last one received.</p>

<section id="auth">
  <h2>Credentials</h2>
  <div id="auth-status" class="muted">Checking for a development session…</div>
  <div id="auth-manual" hidden>
    <label>Subscriber token <input id="token" type="text" size="40"
      placeholder="deno task mint-token"></label>
    <label>Publisher key <input id="publisher-key" type="text" size="24"></label>
  </div>
</section>

<section id="subscribe">
  <h2>Subscribe</h2>
  <form id="subscribe-form">
    <label>Topics <input id="topics" type="text" value="demo" size="30"
      title="comma-separated"></label>
    <label>Event names <input id="event-names" type="text" value="" size="20"
      placeholder="besides message" title="comma-separated"></label>
    <button id="connect" type="submit">Connect</button>
    <button id="disconnect" type="button" class="secondary">Disconnect</button>
    <span>State: <span id="state" class="state" data-state="idle">idle</span></span>
  </form>
  <div id="subscribe-error" class="error"></div>
  <div id="log-wrap">
    <table>
      <thead><tr><th>id</th><th>event</th><th>data</th></tr></thead>
      <tbody id="log"></tbody>
    </table>
  </div>
</section>

<section id="publish">
  <h2>Publish</h2>
  <form id="publish-form">
    <label>Topic <input id="publish-topic" type="text" value="demo" size="16"></label>
    <label>Event <input id="publish-event" type="text" value="" size="12"
      placeholder="message"></label>
    <label>Data <input id="publish-data" type="text" value="hello" size="30"
      title="JSON, or plain text"></label>
    <button id="publish-button" type="submit">Publish</button>
  </form>
  <div id="publish-result" class="muted"></div>
</section>

<section id="ai">
  <h2>AI answer</h2>
  <p class="muted">A long simulated model answer, streamed token by token through the hub.
  Reload the page in the middle: it continues from the exact token.</p>
  <button id="ask" type="button">Ask</button>
  <span>State: <span id="answer-state" class="state" data-state="idle">idle</span></span>
  <span id="answer-progress" class="muted"></span>
  <div id="answer"></div>
</section>

<script>
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var KNOWN_EVENTS = ["message", "herald.history-lost"];
  var session = { publisherKey: "", devToken: false };
  // What the page received, for people (the table) and for tests (window.heraldLog).
  var log = window.heraldLog = [];
  var source = null;

  function setState(el, state) { el.dataset.state = state; el.textContent = state; }

  function readyStateName(es, hadOpen) {
    if (es.readyState === EventSource.OPEN) return "open";
    if (es.readyState === EventSource.CLOSED) return "closed";
    return hadOpen ? "reconnecting" : "connecting";
  }

  function tokenQuery() {
    // The cookie (dev session) needs nothing in the URL; a pasted token goes in ?token=.
    var token = $("token").value.trim();
    return token ? "&token=" + encodeURIComponent(token) : "";
  }

  function eventsUrl(topics, lastEventId) {
    var query = topics.map(function (t) { return "topic=" + encodeURIComponent(t); }).join("&");
    if (lastEventId) query += "&lastEventId=" + encodeURIComponent(lastEventId);
    return "/v1/events?" + query + tokenQuery();
  }

  // EventSource can't read an error response's body: ask once with fetch to show why.
  function explainFailure(url, target) {
    var controller = new AbortController();
    fetch(url, { signal: controller.signal, credentials: "same-origin" }).then(function (r) {
      if (r.ok) { controller.abort(); return; }
      return r.json().then(function (body) {
        target.textContent = r.status + " " + (body.error ? body.error.code + ": " +
          body.error.message : JSON.stringify(body));
      });
    }).catch(function () {});
  }

  function addRow(entry) {
    var tr = document.createElement("tr");
    if (entry.event === "herald.history-lost") tr.className = "lost";
    [entry.id, entry.event, entry.data].forEach(function (text, i) {
      var td = document.createElement("td");
      td.className = ["id", "event", "data"][i];
      td.textContent = text;
      tr.appendChild(td);
    });
    $("log").appendChild(tr);
    $("log-wrap").scrollTop = $("log-wrap").scrollHeight;
  }

  function connect() {
    disconnect();
    $("subscribe-error").textContent = "";
    var topics = $("topics").value.split(",").map(function (s) { return s.trim(); })
      .filter(Boolean);
    var names = $("event-names").value.split(",").map(function (s) { return s.trim(); })
      .filter(Boolean);
    var url = eventsUrl(topics);
    var es = source = new EventSource(url);
    var hadOpen = false;
    setState($("state"), "connecting");
    es.onopen = function () { hadOpen = true; setState($("state"), "open"); };
    es.onerror = function () {
      if (source !== es) return;
      var state = readyStateName(es, hadOpen);
      setState($("state"), state);
      if (state === "closed") explainFailure(url, $("subscribe-error"));
    };
    KNOWN_EVENTS.concat(names).forEach(function (name) {
      es.addEventListener(name, function (e) {
        var entry = { event: e.type, id: e.lastEventId, data: e.data, at: Date.now() };
        log.push(entry);
        addRow(entry);
      });
    });
  }

  function disconnect() {
    if (source) { source.close(); source = null; setState($("state"), "closed"); }
  }

  function publish(event) {
    event.preventDefault();
    var topic = $("publish-topic").value.trim();
    var text = $("publish-data").value;
    var data;
    try { data = JSON.parse(text); } catch (_) { data = text; }
    var body = { data: data };
    var name = $("publish-event").value.trim();
    if (name) body.event = name;
    var key = session.publisherKey || $("publisher-key").value.trim();
    fetch("/v1/topics/" + encodeURIComponent(topic), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer " + key },
      body: JSON.stringify(body),
    }).then(function (r) { return r.json().then(function (b) { return [r, b]; }); })
      .then(function (rb) {
        var r = rb[0], b = rb[1];
        $("publish-result").textContent = r.ok ? "published, id " + b.ids.join(", ")
          : r.status + " " + b.error.code + ": " + b.error.message;
      })
      .catch(function (e) { $("publish-result").textContent = String(e); });
  }

  // ---- The AI answer: the page keeps the text it has and the id of the last token, in
  // sessionStorage, written together in the same handler; on reload it asks to resume strictly
  // after that id (lastEventId query parameter), and later native reconnects send the header.
  var ANSWER_KEY = "herald.answer";
  var answerSource = null;

  function loadAnswer() {
    try { return JSON.parse(sessionStorage.getItem(ANSWER_KEY) || "null"); } catch (_) {
      return null;
    }
  }
  function saveAnswer(state) { sessionStorage.setItem(ANSWER_KEY, JSON.stringify(state)); }

  function showAnswer(state) {
    $("answer").textContent = state.text;
    $("answer-progress").textContent = state.tokens + " tokens" +
      (state.reloads ? ", resumed after " + state.reloads + " reload(s)" : "") +
      (state.lost ? "; the server lost part of this answer (herald.history-lost): text is " +
        "missing" : "");
  }

  function followAnswer(state) {
    if (answerSource) answerSource.close();
    showAnswer(state);
    if (state.done) { setState($("answer-state"), "done"); return; }
    var es = answerSource = new EventSource(eventsUrl([state.topic], state.lastId));
    var hadOpen = false;
    setState($("answer-state"), "connecting");
    es.onopen = function () { hadOpen = true; setState($("answer-state"), "open"); };
    es.onerror = function () {
      if (answerSource === es) setState($("answer-state"), readyStateName(es, hadOpen));
    };
    es.addEventListener("token", function (e) {
      var token = JSON.parse(e.data);
      state.text += token.text;
      state.tokens += 1;
      state.indices.push(token.i);
      state.lastId = e.lastEventId;
      saveAnswer(state);
      showAnswer(state);
    });
    es.addEventListener("done", function () {
      state.done = true;
      saveAnswer(state);
      es.close();
      setState($("answer-state"), "done");
    });
    es.addEventListener("herald.history-lost", function (e) {
      state.lost = (state.lost || []).concat([JSON.parse(e.data)]);
      saveAnswer(state);
      showAnswer(state);
    });
  }

  function ask() {
    var key = session.publisherKey || $("publisher-key").value.trim();
    fetch("/v1/demo/answers", { method: "POST", headers: { authorization: "Bearer " + key } })
      .then(function (r) { return r.json().then(function (b) { return [r, b]; }); })
      .then(function (rb) {
        if (!rb[0].ok) {
          $("answer-progress").textContent = rb[1].error.code + ": " + rb[1].error.message;
          return;
        }
        var state = { topic: rb[1].topic, text: "", tokens: 0, indices: [], lastId: rb[1].lastEventId,
          done: false, reloads: 0 };
        saveAnswer(state);
        followAnswer(state);
      });
  }

  function start() {
    $("subscribe-form").addEventListener("submit", function (e) { e.preventDefault(); connect(); });
    $("disconnect").addEventListener("click", disconnect);
    $("publish-form").addEventListener("submit", publish);
    $("ask").addEventListener("click", ask);
    var params = new URLSearchParams(location.search);
    if (params.get("topics")) $("topics").value = params.get("topics");
    if (params.get("events")) $("event-names").value = params.get("events");
    var answer = loadAnswer();
    if (answer) {
      if (!answer.done) answer.reloads += 1;
      saveAnswer(answer);
      followAnswer(answer);
    }
    if (params.get("topics")) connect();
    window.heraldReady = true;
  }

  fetch("/v1/dev/session", { method: "POST", credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (body) {
      if (body) {
        session.publisherKey = body.publisherKey;
        session.devToken = true;
        $("auth-status").textContent = "Development session: a token for topics " +
          body.topics.join(", ") + " is in a cookie (expires " + body.expiresAt + ").";
      } else {
        $("auth-status").textContent = "Dev mode is off: paste a subscriber token and a " +
          "publisher key.";
        $("auth-manual").hidden = false;
      }
    })
    .catch(function () { $("auth-manual").hidden = false; })
    .then(start);
})();
</script>
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
 * import { pageContentSecurityPolicy } from "./page.ts";
 * console.log((await pageContentSecurityPolicy()).includes("script-src 'sha256-")); // true
 * ```
 */
export function pageContentSecurityPolicy(): Promise<string> {
  policy ??= (async () => {
    const script = /<script>([\s\S]*?)<\/script>/.exec(PAGE_HTML)![1];
    const style = /<style>([\s\S]*?)<\/style>/.exec(PAGE_HTML)![1];
    return [
      "default-src 'none'",
      `script-src ${await sha256Source(script)}`,
      `style-src ${await sha256Source(style)}`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join("; ");
  })();
  return policy;
}
