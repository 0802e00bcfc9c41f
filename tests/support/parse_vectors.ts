// Parsing vectors for the WHATWG "Server-sent events" rules. One per parsing case of the
// web-platform-tests `eventsource/` folder (format-*.htm and friends), written here from the rules
// they check, plus cases those tests leave implicit. Shared by the parser tests (every split
// position) and the client tests (same wire, same events).

/** What a parser should report for one input. */
export interface ParseVector {
  /** A name that says which rule the vector pins. */
  name: string;
  /** The wire text (a string), or bytes for cases text can't express (invalid UTF-8). */
  input: string | Uint8Array;
  /** The dispatched events, in order. `id` is the block's own id field, or undefined. */
  events: { event: string; data: string; id?: string; lastEventId: string }[];
  /** Every valid `retry:` value, in order. */
  retries?: number[];
  /** Every comment text (without the colon and one leading space), in order. */
  comments?: string[];
  /** The last event ID after the whole input. Defaults to the last event's lastEventId or "". */
  finalLastEventId?: string;
}

const longText = "x".repeat(2 * 1024);

/** The vectors. */
export const PARSE_VECTORS: ParseVector[] = [
  {
    name: "a leading BOM is stripped; a BOM at the start of a later line is part of a field name",
    input: "\uFEFFdata:1\n\n\uFEFFdata:2\n\ndata:3\n\n",
    events: [
      { event: "message", data: "1", lastEventId: "" },
      { event: "message", data: "3", lastEventId: "" },
    ],
  },
  {
    name: "only one leading BOM is stripped: a second makes the first line an unknown field",
    input: "\uFEFF\uFEFFdata:1\n\ndata:2\n\ndata:3\n\n",
    events: [
      { event: "message", data: "2", lastEventId: "" },
      { event: "message", data: "3", lastEventId: "" },
    ],
  },
  {
    name: "comments of every shape and line ending are ignored between data lines",
    input: "data:1\r:\0\n:\r\ndata:2\n:" + longText + "\rdata:3\n:data:fail\r:" + longText +
      "\ndata:4\n\n",
    events: [{ event: "message", data: "1\n2\n3\n4", lastEventId: "" }],
    comments: ["\0", "", longText, "data:fail", longText],
  },
  {
    name: "an event not ended by a blank line before the end of the stream is discarded",
    input: "retry:1000\ndata:test1\n\nid:test\ndata:test2",
    events: [{ event: "message", data: "test1", lastEventId: "" }],
    retries: [1000],
  },
  {
    name: "data: with an empty value dispatches an empty string; a bare `data` appends a line",
    input: "data:\n\ndata\ndata\n\ndata:test\n\n",
    events: [
      { event: "message", data: "", lastEventId: "" },
      { event: "message", data: "\n", lastEventId: "" },
      { event: "message", data: "test", lastEventId: "" },
    ],
  },
  {
    name: "an empty event field means the type `message`",
    input: "event: \ndata:data\n\n",
    events: [{ event: "message", data: "data", lastEventId: "" }],
  },
  {
    name: "the event type applies to one block only",
    input: "event:test\ndata:x\n\ndata:x\n\n",
    events: [
      { event: "test", data: "x", lastEventId: "" },
      { event: "message", data: "x", lastEventId: "" },
    ],
  },
  {
    name: "id sets the last event ID, sticky across events; a bare `id` resets it",
    input: "id: 1\nretry: 1000\ndata: data\n\ndata: 2\n\nid\ndata: 3\n\n",
    events: [
      { event: "message", data: "data", id: "1", lastEventId: "1" },
      { event: "message", data: "2", lastEventId: "1" },
      { event: "message", data: "3", id: "", lastEventId: "" },
    ],
    retries: [1000],
  },
  {
    name: "an id containing NUL is ignored and leaves the last event ID unchanged",
    input: "id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n",
    events: [
      { event: "message", data: "a", id: "1", lastEventId: "1" },
      { event: "message", data: "b", lastEventId: "1" },
    ],
  },
  {
    name: "an id-only block sets the last event ID for the events that follow",
    input: "id: 7\n\ndata: x\n\n",
    events: [{ event: "message", data: "x", lastEventId: "7" }],
  },
  {
    name: "an id-only block at the end still sets the last event ID",
    input: "data: x\n\nid: 9\n\n",
    events: [{ event: "message", data: "x", lastEventId: "" }],
    finalLastEventId: "9",
  },
  {
    name: "a block with no data line dispatches nothing",
    input: "event: e\nid: 3\n\n:comment\n\n\n\n",
    events: [],
    comments: ["comment"],
    finalLastEventId: "3",
  },
  {
    name: "field names are case-sensitive and exact; one space after the colon is removed",
    input:
      "data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n" +
      " data:32\ndata:4\n\n",
    events: [{ event: "message", data: "\0\n 2\n1\n3\n\n4", lastEventId: "" }],
  },
  {
    name: "a retry that is not all ASCII digits is ignored",
    input: "retry:1000x\nretry: 1 0\nretry:\nretry\nretry:-1\nretry:١٢\ndata:x\n\n",
    events: [{ event: "message", data: "x", lastEventId: "" }],
    retries: [],
  },
  {
    name: "a retry with leading zeros is a number",
    input: "retry:03000\ndata:x\n\n",
    events: [{ event: "message", data: "x", lastEventId: "" }],
    retries: [3000],
  },
  {
    name: "unknown fields and lines without a colon are ignored",
    input: "data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n",
    events: [{ event: "message", data: "test\n\ntest", lastEventId: "" }],
    comments: ["thisisacommentyay"],
  },
  {
    name: "only one leading space is removed; a tab is kept",
    input: "data:\ttest\rdata: \ndata:test\n\n",
    events: [{ event: "message", data: "\ttest\n\ntest", lastEventId: "" }],
  },
  {
    name: "CR, LF and CRLF all end lines, mixed in one stream",
    input: "data:test\r\ndata\ndata:test\r\n\r\ndata:a\r\rdata:b\n\n",
    events: [
      { event: "message", data: "test\n\ntest", lastEventId: "" },
      { event: "message", data: "a", lastEventId: "" },
      { event: "message", data: "b", lastEventId: "" },
    ],
  },
  {
    name: "a NUL character in data is kept",
    input: "data:\0\n\n",
    events: [{ event: "message", data: "\0", lastEventId: "" }],
  },
  {
    name: "UTF-8 is decoded, astral characters included",
    input: new TextEncoder().encode("data:ok€ 😀 ü\n\n"),
    events: [{ event: "message", data: "ok€ 😀 ü", lastEventId: "" }],
  },
  {
    name: "invalid UTF-8 decodes to U+FFFD",
    input: new Uint8Array([
      ...new TextEncoder().encode("data:a"),
      0xff,
      0xc3, // a lead byte with no continuation
      ...new TextEncoder().encode("b\n\ndata:"),
      0xe2,
      0x82, // a truncated three-byte sequence, then the line ends
      ...new TextEncoder().encode("\n\n"),
    ]),
    events: [
      { event: "message", data: "a\uFFFD\uFFFDb", lastEventId: "" },
      { event: "message", data: "\uFFFD", lastEventId: "" },
    ],
  },
  {
    name: "a colon in the value is kept; only the first colon splits",
    input: "data: a: b:c\nevent:x:y\n\n",
    events: [{ event: "x:y", data: "a: b:c", lastEventId: "" }],
  },
  {
    name: "a field line with no value after the colon gives an empty value",
    input: "event:\ndata:\n\n",
    events: [{ event: "message", data: "", lastEventId: "" }],
  },
  {
    name: "the data buffer's trailing newline is removed once",
    input: "data:\ndata:\n\n",
    events: [{ event: "message", data: "\n", lastEventId: "" }],
  },
  {
    name: "blank lines between events dispatch nothing more",
    input: "\n\n\r\n\rdata:1\n\n\n\ndata:2\n\n",
    events: [
      { event: "message", data: "1", lastEventId: "" },
      { event: "message", data: "2", lastEventId: "" },
    ],
  },
  {
    name: "the last id in a block wins",
    input: "id:1\nid:2\ndata:x\n\n",
    events: [{ event: "message", data: "x", id: "2", lastEventId: "2" }],
  },
  {
    name: "an id keeps spaces after the first, and may hold any character but NUL",
    input: "id:  a b €\ndata:x\n\n",
    events: [{ event: "message", data: "x", id: " a b €", lastEventId: " a b €" }],
  },
  {
    name: "a U+FEFF inside data is data",
    input: "data:a\uFEFFb\n\n",
    events: [{ event: "message", data: "a\uFEFFb", lastEventId: "" }],
  },
  {
    name: "a CR at the very end of the stream still ends its line",
    input: "data:x\r\r",
    events: [{ event: "message", data: "x", lastEventId: "" }],
  },
  {
    name: "an empty stream dispatches nothing",
    input: "",
    events: [],
  },
  {
    name: "a stream of only a BOM dispatches nothing",
    input: "\uFEFF",
    events: [],
  },
];
