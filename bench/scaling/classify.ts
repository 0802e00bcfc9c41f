// Sorts the Upstash broker's REST traffic by what it is for, as Upstash bills it (one command
// each, pipelined or not): publish, replay/read, feed subscribe, liveness ping, presence, stream
// (resumable streams' own scripts), other. Lua scripts are recognised by their text: every string
// export of the adapter's modules (src/adapters/upstash*.ts) that calls redis is a known script,
// named after its export, so a script added or renamed there is classified without an edit here.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The kinds a command is counted under. */
export const KINDS = [
  "publish",
  "read",
  "subscribe",
  "ping",
  "presence",
  "stream",
  "other",
] as const;
export type Kind = typeof KINDS[number];

/** One Lua script the adapter runs, by the name of its export. */
export interface KnownScript {
  name: string;
  kind: Kind;
  body: string;
  sha1: string;
}

/** What an export's name says the script is for (the most specific word first). */
export function kindOfScriptName(name: string): Kind {
  const upper = name.toUpperCase();
  if (/PRESENCE|WATCH|READERS/.test(upper)) return "presence";
  if (/LEASE|FLUSH|STREAM|CANCEL|START|FINISH|END|CLAIM/.test(upper)) return "stream";
  if (/PUBLISH|APPEND/.test(upper)) return "publish";
  if (/READ|RANGE|REPLAY/.test(upper)) return "read";
  return "other";
}

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Every Lua script exported by the adapter's modules. */
export async function loadKnownScripts(): Promise<KnownScript[]> {
  const adapters = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "adapters");
  const scripts: KnownScript[] = [];
  const seen = new Set<string>();
  for (const file of readdirSync(adapters).sort()) {
    if (!/^upstash.*\.ts$/.test(file)) continue;
    const module = await import(join(adapters, file)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      if (typeof value !== "string" || !value.includes("redis.call") || seen.has(value)) continue;
      seen.add(value);
      scripts.push({ name, kind: kindOfScriptName(name), body: value, sha1: await sha1Hex(value) });
    }
  }
  return scripts;
}

/** A classifier over the known scripts: `(command) => [kind, detail]`. */
export function classifier(
  scripts: readonly KnownScript[],
): (command: readonly string[]) => [Kind, string] {
  const byBody = new Map(scripts.map((s) => [s.body, s]));
  const bySha = new Map(scripts.map((s) => [s.sha1, s]));
  return (command) => {
    const name = command[0].toUpperCase();
    if (name === "EVAL" || name === "EVALSHA" || name === "EVAL_RO" || name === "EVALSHA_RO") {
      const script = name.startsWith("EVALSHA")
        ? bySha.get(command[1].toLowerCase())
        : byBody.get(command[1]);
      return script ? [script.kind, `EVAL ${script.name}`] : ["other", `${name} (unknown script)`];
    }
    if (name === "SUBSCRIBE" || name === "PSUBSCRIBE") return ["subscribe", name];
    // The live feed's liveness ping is a PUBLISH of {"p": ...} on its own channel.
    if (name === "PUBLISH" && command[2]?.startsWith('{"p":')) return ["ping", "PUBLISH ping"];
    return ["other", name];
  };
}
