// The page's stylesheet, inlined into the page and pinned by hash in its Content-Security-Policy.
// One column on a phone (390 px wide: nothing may scroll sideways, so long ids and data wrap or
// truncate), two where there is room; light and dark follow the system.

/**
 * The page's CSS.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PAGE_STYLE } from "./page_style.ts";
 * assert.match(PAGE_STYLE, /@media \(prefers-color-scheme: dark\)/);
 * assert.equal(PAGE_STYLE.includes("</style"), false);
 * ```
 */
export const PAGE_STYLE = /* css */ `
:root {
  color-scheme: light dark;
  --bg: #f3f4f7; --card: #ffffff; --ink: #1c2027; --muted: #59626e; --line: #dde1e7;
  --soft: #f6f7f9; --accent: #3150b0; --accent-ink: #ffffff; --focus: #7c93e6;
  --ok: #1c7437; --ok-bg: #dff3e5; --warn: #7f5300; --warn-bg: #fcefd0;
  --bad: #ad2218; --bad-bg: #fbe1de; --idle-bg: #e8eaee;
  --c-open: #3150b0; --c-delivered: #1c7437; --c-published: #7046a6; --c-drops: #ad2218;
  --mono: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: var(--bg); line-height: 1.45;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #101318; --card: #191d24; --ink: #e7e9ee; --muted: #a0a9b5; --line: #2d333c;
    --soft: #141820; --accent: #8da2ff; --accent-ink: #0c1022; --focus: #8da2ff;
    --ok: #7bd69a; --ok-bg: #173323; --warn: #f0c46a; --warn-bg: #3a2c0d;
    --bad: #ff9a8f; --bad-bg: #3f1a17; --idle-bg: #262b33;
    --c-open: #8da2ff; --c-delivered: #7bd69a; --c-published: #c7a3ff; --c-drops: #ff9a8f;
  }
}
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; }
.page { max-width: 1080px; margin: 0 auto; padding: 20px 16px 32px; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible,
summary:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
code { font-family: var(--mono); font-size: .88em; }
h1 { font-size: 1.6rem; margin: 0; letter-spacing: -.01em; }
h2 { font-size: 1.05rem; margin: 0; }
p { margin: 6px 0; }
.muted { color: var(--muted); font-size: .9rem; }
.error { color: var(--bad); font-size: .9rem; overflow-wrap: anywhere; }
.error:empty { display: none; }

header.top { display: flex; flex-wrap: wrap; align-items: flex-end; justify-content: space-between;
  gap: 8px 24px; margin-bottom: 14px; }
.tagline { color: var(--muted); margin: 4px 0 0; max-width: 620px; }
nav.links { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: .95rem; }

section.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 14px 16px; margin: 0 0 14px; min-width: 0; }
.head { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; margin-bottom: 6px; }
.head h2 { margin-right: auto; }
.grid { display: grid; gap: 0 14px; grid-template-columns: minmax(0, 1fr); align-items: start; }
@media (min-width: 880px) { .grid { grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); } }

.pill { display: inline-block; padding: 1px 10px; border-radius: 999px; font-size: .82rem;
  font-weight: 600; background: var(--idle-bg); color: var(--ink); white-space: nowrap; }
.pill[data-state=open], .pill[data-state=streaming], .pill[data-state=done] {
  background: var(--ok-bg); color: var(--ok); }
.pill[data-state=connecting], .pill[data-state=reconnecting], .pill[data-state=cancelled] {
  background: var(--warn-bg); color: var(--warn); }
.pill[data-state=closed], .pill[data-state=error], .pill[data-state=lost],
.pill[data-state=unavailable] { background: var(--bad-bg); color: var(--bad); }

form.row, .row { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 8px; margin: 8px 0; }
.field { display: flex; flex-direction: column; gap: 2px; font-size: .85rem; color: var(--muted);
  flex: 1 1 140px; min-width: 0; }
.field.wide { flex-basis: 260px; }
input[type=text], textarea { font: inherit; font-size: .95rem; color: var(--ink);
  background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px;
  width: 100%; min-width: 0; }
button { font: inherit; font-size: .92rem; font-weight: 600; border: 1px solid var(--accent);
  background: var(--accent); color: var(--accent-ink); border-radius: 6px; padding: 6px 14px;
  cursor: pointer; }
button.secondary { background: transparent; color: var(--accent); }
button.small { font-size: .8rem; padding: 2px 10px; }
.row.between { justify-content: space-between; align-items: center; margin: 6px 0 0; }
button:disabled { opacity: .45; cursor: not-allowed; }

.charts { display: grid; gap: 10px; grid-template-columns: repeat(2, minmax(0, 1fr)); }
@media (min-width: 720px) { .charts { grid-template-columns: repeat(4, minmax(0, 1fr)); } }
figure.chart { margin: 0; padding: 10px 12px 8px; border: 1px solid var(--line); border-radius: 8px;
  background: var(--soft); min-width: 0; }
figure.chart figcaption { display: flex; justify-content: space-between; align-items: baseline;
  gap: 6px; font-size: .82rem; color: var(--muted); }
.chart .value { font-size: 1.45rem; font-weight: 700; color: var(--ink);
  font-variant-numeric: tabular-nums; }
.chart .sub { font-size: .75rem; color: var(--muted); font-variant-numeric: tabular-nums;
  margin-top: 2px; }
.chart svg { display: block; width: 100%; height: 44px; margin-top: 4px; overflow: visible; }
.chart polyline { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke;
  stroke-linejoin: round; }
.chart path { stroke: none; opacity: .16; }
#chart-open polyline { stroke: var(--c-open); } #chart-open path { fill: var(--c-open); }
#chart-delivered polyline { stroke: var(--c-delivered); }
#chart-delivered path { fill: var(--c-delivered); }
#chart-published polyline { stroke: var(--c-published); }
#chart-published path { fill: var(--c-published); }
#chart-drops polyline { stroke: var(--c-drops); } #chart-drops path { fill: var(--c-drops); }
.chart line.base { stroke: var(--line); stroke-width: 1; vector-effect: non-scaling-stroke; }

#answer { white-space: pre-wrap; overflow-wrap: anywhere; min-height: 7.5em; max-height: 340px;
  overflow-y: auto; padding: 10px 12px; margin-top: 8px; background: var(--soft);
  border: 1px solid var(--line); border-radius: 8px; line-height: 1.55; }
#answer:empty::before { content: "The answer streams here."; color: var(--muted); }
#answer[data-state=streaming]::after { content: "\\2588"; color: var(--accent);
  animation: blink 1s steps(2) infinite; }
@keyframes blink { 50% { opacity: 0; } }
@media (prefers-reduced-motion: reduce) { #answer[data-state=streaming]::after { animation: none; } }

#log-wrap { max-height: 420px; overflow-x: hidden; overflow-y: auto; margin-top: 8px;
  border: 1px solid var(--line); border-radius: 8px; background: var(--soft); }
#log { list-style: none; margin: 0; padding: 0; }
#log:empty::before { content: "Events on the topics above appear here, whatever their name.";
  display: block; padding: 14px 12px; color: var(--muted); font-size: .9rem; }
#log li { padding: 6px 10px; border-bottom: 1px solid var(--line); min-width: 0; }
#log li:last-child { border-bottom: 0; }
#log .meta { display: flex; align-items: baseline; gap: 8px; min-width: 0; font-size: .8rem; }
#log .name { font-weight: 700; color: var(--accent); white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; flex: 0 1 auto; min-width: 0; max-width: 75%; }
#log li[data-kind=message] .name { color: var(--muted); }
#log li[data-kind=herald] { background: var(--warn-bg); }
#log li[data-kind=herald] .name { color: var(--warn); }
#log .id { font-family: var(--mono); color: var(--muted); overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; min-width: 0; flex: 1 1 0; }
#log time { color: var(--muted); font-variant-numeric: tabular-nums; white-space: nowrap;
  flex: none; }
#log .data { font-family: var(--mono); font-size: .86rem; white-space: pre-wrap;
  overflow-wrap: anywhere; margin-top: 2px; }

.notice { border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 8px;
  background: var(--card); padding: 8px 14px; margin: 0 0 14px; font-size: .9rem;
  color: var(--muted); }
.notice p { margin: 0; }
#auth-manual { margin-top: 4px; }
footer { color: var(--muted); font-size: .82rem; text-align: center; margin-top: 18px; }
`;
