/**
 * The versioned hash that puts a unit into one of 10,000 buckets.
 *
 * Version 1 (the only one): `bucket = murmur3_x86_32(utf8(salt + ":" + unitId), seed 0) mod 10000`.
 * MurmurHash3 was chosen over a cryptographic hash because the router hashes on the request path
 * (at least a million decisions a second) and the bucket only needs to be uniform, not secret; it
 * is also a standard function with libraries in most languages (Python:
 * `mmh3.hash(s, 0, signed=False) % 10000`), so an analyst can reproduce a unit's bucket from the
 * exposure log.
 *
 * The scheme is pinned by `test/fixtures/assignment-cases.json`: changing anything here (the
 * separator, the encoding, the modulus) re-randomizes every running experiment, so it needs a new
 * version number, not an edit.
 */

/** Buckets per experiment: percents resolve to 0.01 % steps. */
export const BUCKET_COUNT = 10_000;

/** Hash versions this router implements; `hashVersion` in the spec selects one. */
export const hashVersions = [1] as const;
export type HashVersion = (typeof hashVersions)[number];

/** A unit's position in the experiment, an integer in [0, BUCKET_COUNT). */
export type Bucket = number;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Scrambles one 4-byte block before it is folded into the state. */
function scramble(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

/** Folds one full block into the running hash. */
function mixBlock(h: number, k: number): number {
  h ^= scramble(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The final avalanche, so every input bit affects every output bit. */
function finalize(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/*
 * Running state of an ASCII hash in progress. Module-level because hashing is synchronous and
 * this lets `bucketOf` hash `salt`, ":" and the unit id in sequence without concatenating them:
 * reading a concatenated (rope) string char by char costs more than the hash itself.
 */
let runningHash = 0;
let pendingBytes = 0;
let byteCount = 0;

/** Feeds ASCII text (its UTF-8 bytes are its char codes) into the running hash; false at the first non-ASCII char. */
function feedAscii(text: string): boolean {
  const length = text.length;
  let i = 0;
  // Complete the block left partial by the previous piece.
  while ((byteCount & 3) !== 0 && i < length) {
    const code = text.charCodeAt(i++);
    if (code > 0x7f) return false;
    pendingBytes |= code << (8 * (byteCount & 3));
    byteCount += 1;
    if ((byteCount & 3) === 0) {
      runningHash = mixBlock(runningHash, pendingBytes);
      pendingBytes = 0;
    }
  }
  for (; i + 4 <= length; i += 4) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    const d = text.charCodeAt(i + 3);
    if ((a | b | c | d) > 0x7f) return false;
    runningHash = mixBlock(runningHash, a | (b << 8) | (c << 16) | (d << 24));
    byteCount += 4;
  }
  for (; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return false;
    pendingBytes |= code << (8 * (byteCount & 3));
    byteCount += 1;
  }
  return true;
}

function startAscii(seed: number): void {
  runningHash = seed | 0;
  pendingBytes = 0;
  byteCount = 0;
}

function finishAscii(): number {
  if ((byteCount & 3) !== 0) runningHash ^= scramble(pendingBytes);
  return finalize(runningHash, byteCount);
}

/** MurmurHash3 x86_32 of raw bytes. */
function murmurBytes(bytes: Uint8Array, seed: number): number {
  const length = bytes.length;
  const blocks = length & ~3;
  let h = seed | 0;
  for (let i = 0; i < blocks; i += 4) {
    const k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h = mixBlock(h, k);
  }
  const rest = length & 3;
  if (rest > 0) {
    let tail = bytes[blocks]!;
    if (rest > 1) tail |= bytes[blocks + 1]! << 8;
    if (rest > 2) tail |= bytes[blocks + 2]! << 16;
    h ^= scramble(tail);
  }
  return finalize(h, length);
}

const utf8 = new TextEncoder();

/**
 * MurmurHash3 x86_32 of the UTF-8 encoding of `text` (lone surrogates encode as U+FFFD, as
 * TextEncoder does), as an unsigned 32-bit integer. `seed` defaults to 0.
 */
export function murmur3(text: string, seed = 0): number {
  startAscii(seed);
  return feedAscii(text) ? finishAscii() : murmurBytes(utf8.encode(text), seed);
}

/**
 * The bucket of `unitId` under `salt`, in [0, BUCKET_COUNT). Deterministic: the same salt, unit
 * and version give the same bucket in every process and every release. `version` defaults to 1.
 * The modulo bias (2^32 is not a multiple of 10,000) is below 3 parts per million per bucket.
 */
export function bucketOf(salt: string, unitId: string, version: HashVersion = 1): Bucket {
  if (version !== 1) {
    throw new RangeError(
      `unknown hash version ${String(version)}: this router implements ${hashVersions.join(", ")}`,
    );
  }
  startAscii(0);
  if (feedAscii(salt) && feedAscii(":") && feedAscii(unitId)) return finishAscii() % BUCKET_COUNT;
  return murmurBytes(utf8.encode(`${salt}:${unitId}`), 0) % BUCKET_COUNT;
}
