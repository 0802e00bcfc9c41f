// A small seeded PRNG (mulberry32), so property tests are reproducible: a failure prints its seed.

/** A deterministic random source. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T;
}

/** Creates a PRNG from a 32-bit seed. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)],
  };
}

/** Splits bytes into random chunks (some empty, some single bytes, some large). */
export function randomChunks(bytes: Uint8Array, random: Random): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const kind = random.int(4);
    if (kind === 0) chunks.push(new Uint8Array(0));
    const size = kind === 1 ? 1 : kind === 2 ? 1 + random.int(8) : 1 + random.int(256);
    chunks.push(bytes.subarray(pos, pos + size));
    pos += size;
  }
  return chunks;
}
