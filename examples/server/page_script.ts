// The page's script, inlined into the page and pinned by hash in its Content-Security-Policy.
// Plain modern JavaScript, no build step. It talks to the server's API only:
// - the event log reads `GET /v1/events` with fetch and a small spec-following parser, so every
//   event shows whatever its name (the browser's EventSource only delivers the names a page
//   listens for), and reconnects the way EventSource does: after `retry:`, with Last-Event-ID;
// - the AI answer and the live view use the browser's own EventSource, so resuming by
//   Last-Event-ID, and stopping at a 204 once an answer has ended, are the browser's own.
// Event data is only ever written as text.

/**
 * The page's JavaScript. For tests it keeps what it received in `window.heraldLog` (the event
 * log) and `window.heraldStats` (the live samples), and sets `window.heraldReady` once started.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PAGE_SCRIPT } from "./page_script.ts";
 * assert.doesNotThrow(() => new Function(PAGE_SCRIPT)); // it parses
 * assert.equal(PAGE_SCRIPT.includes("</script"), false);
 * ```
 */
export const PAGE_SCRIPT = /* js */ `
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const session = { publisherKey: "", dev: false };
  const log = (window.heraldLog = []);
  const samples = (window.heraldStats = []);
  const MAX_LOG_ROWS = 500;
  const CHART_POINTS = 30;

  const setState = (el, state, text = state) => {
    el.dataset.state = state;
    el.textContent = text;
  };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const pastedToken = () => $("token").value.trim();
  const publisherKey = () => session.publisherKey || $("publisher-key").value.trim();
  // The browser's EventSource can't send headers: a pasted token goes in ?token= (the dev
  // session's token is an HttpOnly cookie, sent by the browser itself).
  const tokenQuery = () => (pastedToken() ? "&token=" + encodeURIComponent(pastedToken()) : "");

  async function failureText(response) {
    const text = await response.text().catch(() => "");
    try {
      const { error } = JSON.parse(text);
      if (error) return response.status + " " + error.code + ": " + error.message;
    } catch {
      // not JSON: show the text as it is
    }
    return response.status + " " + (text.trim() || response.statusText);
  }

  async function postJson(path, body, key) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer " + key },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(await failureText(response));
    return response.json();
  }

  // ---- An event stream parser, as the HTML standard describes it: lines end in CR, LF or CRLF;
  // "field: value" loses one space; a blank line dispatches; an id-only block still moves the
  // last event id; retry takes digits only.
  function eventParser(stream, onEvent) {
    let buffer = "";
    let data = [];
    let hasData = false;
    let name = "";
    let idBuffer = stream.lastEventId;
    const line = (text) => {
      if (text === "") {
        stream.lastEventId = idBuffer;
        if (hasData) onEvent({ event: name || "message", id: idBuffer, data: data.join("\\n") });
        data = [];
        hasData = false;
        name = "";
        return;
      }
      if (text[0] === ":") return;
      const colon = text.indexOf(":");
      const field = colon < 0 ? text : text.slice(0, colon);
      let value = colon < 0 ? "" : text.slice(colon + 1);
      if (value[0] === " ") value = value.slice(1);
      if (field === "data") {
        data.push(value);
        hasData = true;
      } else if (field === "event") name = value;
      else if (field === "id" && !value.includes("\\0")) idBuffer = value;
      else if (field === "retry" && /^\\d+$/.test(value)) stream.retryMs = Number(value);
    };
    return (chunk) => {
      buffer += chunk;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c !== "\\n" && c !== "\\r") continue;
        if (c === "\\r" && i + 1 === buffer.length) break; // maybe half of a CRLF: wait
        line(buffer.slice(start, i));
        if (c === "\\r" && buffer[i + 1] === "\\n") i++;
        start = i + 1;
      }
      buffer = buffer.slice(start);
    };
  }

  // ---- Follows an event stream with fetch. Reconnects after the server's retry (doubling while
  // it keeps failing), resuming with Last-Event-ID; stops on 204 and on a refusal (4xx but 429).
  function followStream(url, { onEvent, onState, onError }) {
    const stream = { lastEventId: "", retryMs: 2000, stopped: false, controller: null };
    const run = async () => {
      let failures = 0;
      while (!stream.stopped) {
        stream.controller = new AbortController();
        const headers = { accept: "text/event-stream" };
        if (stream.lastEventId) headers["last-event-id"] = stream.lastEventId;
        if (pastedToken()) headers.authorization = "Bearer " + pastedToken();
        let response = null;
        try {
          response = await fetch(url, { headers, signal: stream.controller.signal, cache: "no-store" });
          if (response.status === 204) break;
          if (!response.ok) {
            onError(await failureText(response));
            if (response.status !== 429 && response.status < 500) break;
          } else {
            failures = 0;
            onError("");
            onState("open");
            const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
            const feed = eventParser(stream, onEvent);
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              feed(value);
            }
          }
        } catch {
          // the network failed or we aborted: reconnect unless stopped
        }
        if (stream.stopped) return;
        failures++;
        onState("reconnecting");
        await sleep(Math.min(stream.retryMs * 2 ** (failures - 1), 30000));
      }
      if (!stream.stopped) onState("closed");
    };
    run();
    return () => {
      stream.stopped = true;
      stream.controller?.abort();
      onState("closed");
    };
  }

  // ---- The event log: every event of the subscribed topics, whatever its name.
  let stopLog = null;

  function addRow(entry) {
    const li = document.createElement("li");
    li.dataset.kind = entry.event.startsWith("herald.") ? "herald"
      : entry.event === "message" ? "message" : "named";
    const meta = document.createElement("div");
    meta.className = "meta";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = entry.event;
    name.title = entry.event;
    const id = document.createElement("span");
    id.className = "id";
    id.textContent = entry.id;
    id.title = entry.id;
    const time = document.createElement("time");
    time.textContent = new Date(entry.at).toLocaleTimeString();
    const data = document.createElement("div");
    data.className = "data";
    data.textContent = entry.data;
    meta.append(name, id, time);
    li.append(meta, data);
    const list = $("log");
    list.append(li);
    while (list.childElementCount > MAX_LOG_ROWS) list.firstElementChild.remove();
    $("log-count").textContent = log.length + (log.length === 1 ? " event" : " events");
    $("log-wrap").scrollTop = $("log-wrap").scrollHeight;
  }

  function connect() {
    disconnect();
    // A live view refused before a token was pasted gets another chance with it.
    if (liveSource?.readyState === EventSource.CLOSED) watchServer();
    const topics = $("topics").value.split(",").map((s) => s.trim()).filter(Boolean);
    if (topics.length === 0) {
      $("subscribe-error").textContent = "Name at least one topic.";
      return;
    }
    $("publish-topic").value = topics[0]; // publish where the log listens, unless changed
    const query = topics.map((t) => "topic=" + encodeURIComponent(t)).join("&");
    setState($("state"), "connecting");
    stopLog = followStream("/v1/events?" + query, {
      onEvent(message) {
        const entry = { ...message, at: Date.now() };
        log.push(entry);
        addRow(entry);
      },
      onState: (state) => setState($("state"), state),
      onError: (text) => ($("subscribe-error").textContent = text),
    });
  }

  function disconnect() {
    if (stopLog) stopLog();
    stopLog = null;
  }

  async function publish(event) {
    event.preventDefault();
    const topic = $("publish-topic").value.trim();
    const text = $("publish-data").value;
    let data;
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
    const body = { data };
    const name = $("publish-event").value.trim();
    if (name) body.event = name;
    try {
      const result = await postJson("/v1/topics/" + encodeURIComponent(topic), body, publisherKey());
      $("publish-result").textContent = "published to " + result.topic + ", id " + result.ids.join(", ");
    } catch (error) {
      $("publish-result").textContent = error.message;
    }
  }

  // ---- The live view: samples from GET /v1/stats, drawn as sparklines of the last 30 s.
  const CHARTS = [
    { key: "open", value: (s) => s.open, sub: (s) => s.answers + " answering, " + s.queuedEvents + " queued" },
    { key: "delivered", value: (s) => s.perSecond.delivered, sub: (s) => s.delivered.toLocaleString() + " in all" },
    { key: "published", value: (s) => s.perSecond.published, sub: (s) => s.published.toLocaleString() + " in all" },
    { key: "drops", value: (s) => s.perSecond.drops, sub: (s) => s.drops + " slow clients dropped" },
  ];

  function draw(chart) {
    const values = samples.slice(-CHART_POINTS).map(chart.value);
    const svg = $("chart-" + chart.key).querySelector("svg");
    const peak = Math.max(1, ...values);
    const x = (i) => (100 * (i + CHART_POINTS - values.length)) / (CHART_POINTS - 1);
    const y = (v) => 38 - (34 * v) / peak;
    const points = values.map((v, i) => x(i).toFixed(2) + "," + y(v).toFixed(2));
    svg.querySelector("polyline").setAttribute("points", points.join(" "));
    svg.querySelector("path").setAttribute("d", points.length < 2 ? ""
      : "M" + x(0).toFixed(2) + ",40 L" + points.join(" L") + " L100,40 Z");
    const last = samples[samples.length - 1];
    $("value-" + chart.key).textContent = chart.value(last).toLocaleString();
    $("sub-" + chart.key).textContent = chart.sub(last);
    svg.setAttribute("aria-label", svg.getAttribute("aria-label").replace(/: .*$/, "") +
      ": now " + chart.value(last) + ", peak " + Math.max(0, ...values));
  }

  let liveSource = null;

  function watchServer() {
    const query = tokenQuery();
    const es = (liveSource = new EventSource("/v1/stats" + (query ? "?" + query.slice(1) : "")));
    es.onopen = () => setState($("live-state"), "open", "live");
    es.onerror = () => setState($("live-state"), es.readyState === EventSource.CLOSED
      ? "unavailable" : "reconnecting");
    es.addEventListener("stats", (e) => {
      samples.push(JSON.parse(e.data));
      if (samples.length > CHART_POINTS * 4) samples.splice(0, samples.length - CHART_POINTS);
      for (const chart of CHARTS) draw(chart);
    });
  }

  // ---- The AI answer. The page keeps the text it has and the id of the last token together in
  // sessionStorage; a reload resumes strictly after that id (?lastEventId=, then the browser's
  // own Last-Event-ID on reconnects). The stream's last event is herald.end; the server then
  // closes the response, and answers the browser's reconnect with 204, which stops it for good.
  const ANSWER_KEY = "herald.answer";
  let answerSource = null;

  const loadAnswer = () => {
    try {
      return JSON.parse(sessionStorage.getItem(ANSWER_KEY) ?? "null");
    } catch {
      return null;
    }
  };
  const saveAnswer = (answer) => sessionStorage.setItem(ANSWER_KEY, JSON.stringify(answer));

  function showAnswer(answer, state) {
    $("answer").textContent = answer.text;
    $("answer").dataset.state = state;
    setState($("answer-state"), state);
    const parts = [answer.tokens + " tokens"];
    if (answer.reloads) parts.push("resumed after " + answer.reloads + " reload(s)");
    if (answer.replays) parts.push("replayed from the start after the end");
    if (answer.end) {
      parts.push("ended " + answer.end.status + (answer.end.reason ? " (" + answer.end.reason + ")" : ""));
      if (answer.end.message) parts.push(answer.end.message);
    }
    if (answer.lost) parts.push("the server no longer had part of this answer: text is missing");
    $("answer-progress").textContent = parts.join(" · ");
    // Running until it ends, or until its stream is refused for good (then a new one may start).
    const running = !answer.end && state !== "closed";
    $("stop").disabled = !running;
    $("ask").disabled = running;
  }

  function followAnswer(answer) {
    if (answerSource) answerSource.close();
    const url = "/v1/events?topic=" + encodeURIComponent(answer.topic) + "&lastEventId=" +
      encodeURIComponent(answer.lastId) + tokenQuery();
    const es = (answerSource = new EventSource(url));
    showAnswer(answer, "connecting");
    es.onopen = () => !answer.end && showAnswer(answer, "streaming");
    es.onerror = () => {
      if (answerSource !== es || answer.end) return;
      if (es.readyState === EventSource.CLOSED) {
        if (answer.kept) {
          // The replay was refused (an ended answer is kept for an hour): show what we had.
          Object.assign(answer, answer.kept, { kept: undefined });
          saveAnswer(answer);
          showAnswer(answer, answer.end.status);
          explainAnswerFailure(url);
          return;
        }
        showAnswer(answer, "closed");
        explainAnswerFailure(url);
      } else showAnswer(answer, "reconnecting");
    };
    es.addEventListener("token", (e) => {
      const token = JSON.parse(e.data);
      answer.text += token.text;
      answer.tokens += 1;
      answer.indices.push(token.i);
      answer.lastId = e.lastEventId;
      saveAnswer(answer);
      showAnswer(answer, "streaming");
    });
    es.addEventListener("herald.end", (e) => {
      answer.end = JSON.parse(e.data);
      answer.kept = undefined;
      answer.lastId = e.lastEventId;
      saveAnswer(answer);
      showAnswer(answer, answer.end.status);
    });
    es.addEventListener("herald.history-lost", (e) => {
      answer.lost = (answer.lost ?? []).concat([JSON.parse(e.data)]);
      saveAnswer(answer);
      showAnswer(answer, "streaming");
    });
  }

  // EventSource can't read an error response: ask once with fetch to show why.
  async function explainAnswerFailure(url) {
    const controller = new AbortController();
    try {
      const response = await fetch(url, { signal: controller.signal });
      if (response.ok) controller.abort();
      else $("answer-progress").textContent = await failureText(response);
    } catch {
      // gone again: the state already says closed
    }
  }

  async function ask(event) {
    event.preventDefault();
    $("ask").disabled = true;
    try {
      const prompt = $("prompt").value;
      const started = await postJson("/v1/demo/answers", { prompt }, publisherKey());
      const answer = { id: started.id, topic: started.topic, cursor: started.cursor, prompt, text: "",
        tokens: 0, indices: [], lastId: started.cursor, end: null, reloads: 0, replays: 0 };
      saveAnswer(answer);
      followAnswer(answer);
    } catch (error) {
      $("ask").disabled = false;
      $("answer-progress").textContent = error.message;
    }
  }

  async function stop() {
    const answer = loadAnswer();
    if (!answer || answer.end) return;
    $("stop").disabled = true;
    try {
      await postJson("/v1/demo/answers/" + encodeURIComponent(answer.id) + "/cancel", {}, publisherKey());
    } catch (error) {
      $("stop").disabled = false;
      $("answer-progress").textContent = error.message;
    }
  }

  function resumeAnswer() {
    const answer = loadAnswer();
    if (!answer) return;
    $("prompt").value = answer.prompt ?? "";
    if (answer.end) {
      // Ended: read it again from its first token; the stream ends with herald.end as before.
      const { text, tokens, indices, lastId, end, lost } = answer;
      Object.assign(answer, { text: "", tokens: 0, indices: [], lastId: answer.cursor, end: null,
        lost: undefined, replays: answer.replays + 1,
        kept: { text, tokens, indices, lastId, end, lost } });
    } else answer.reloads += 1;
    saveAnswer(answer);
    followAnswer(answer);
  }

  function start() {
    $("subscribe-form").addEventListener("submit", (e) => {
      e.preventDefault();
      connect();
    });
    $("auth-form").addEventListener("submit", (e) => e.preventDefault());
    $("disconnect").addEventListener("click", disconnect);
    $("clear").addEventListener("click", () => {
      $("log").replaceChildren();
      $("log-count").textContent = "cleared";
    });
    $("publish-form").addEventListener("submit", publish);
    $("ask-form").addEventListener("submit", ask);
    $("stop").addEventListener("click", stop);
    const params = new URLSearchParams(location.search);
    if (params.get("topics")) $("topics").value = params.get("topics");
    watchServer();
    resumeAnswer();
    if (params.get("topics")) connect();
    window.heraldReady = true;
  }

  fetch("/v1/dev/session", { method: "POST" })
    .then((response) => (response.ok ? response.json() : null))
    .then((body) => {
      if (body) {
        session.publisherKey = body.publisherKey;
        session.dev = true;
        $("auth-status").textContent = "Development session: a token for topics " +
          body.topics.join(", ") + " is in an HttpOnly cookie, until " +
          new Date(body.expiresAt).toLocaleTimeString() + ".";
      } else {
        $("auth-status").textContent = "Dev mode is off: paste a subscriber token and a publisher key.";
        $("auth-manual").hidden = false;
      }
    })
    .catch(() => ($("auth-manual").hidden = false))
    .then(start);
})();
`;
