/**
 * Rendezvous (highest-random-weight) hashing: every replica gets a pseudo-random score for a
 * conversation key and the highest score wins. A conversation therefore stays on one replica, where
 * its prompt prefix is already in the engine's prefix cache, and moves only when that replica is
 * gone; then only the conversations that lived there move, spread evenly over the rest. Adding a
 * replica takes about 1/(n + 1) of the conversations and moves no other.
 *
 * This is not the assignment hash (hash.ts): nothing stores or replays it, so it is not versioned.
 */

/** Something a key can be placed on: a replica, identified by its precomputed id hash. */
export interface RendezvousMember {
  /** {@link memberHash} of the member's stable id. */
  readonly rendezvousHash: number;
}

/** Murmur3's 32-bit finaliser: every input bit flips about half the output bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over UTF-16 code units, seeded, then finalised so similar strings score unrelated. */
export function hashString32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return fmix32(h);
}

// Different seeds for keys and members, so a key equal to a member id is not special.
const KEY_SEED = 0x6b43a9b5;
const MEMBER_SEED = 0x2f1d3c57;

/** The hash a member carries; compute once per member, not per pick. */
export function memberHash(id: string): number {
  return hashString32(id, MEMBER_SEED);
}

/** The hash of a conversation key; {@link pickRendezvous} takes this. */
export function keyHash(key: string): number {
  return hashString32(key, KEY_SEED);
}

/**
 * The score of a member for a key. Mixing the xor through a bijective finaliser keeps distinct
 * members' scores distinct and their order uniformly random per key.
 */
export function rendezvousScore(key: number, member: number): number {
  return fmix32((key ^ member) + 0x9e3779b9);
}

/**
 * The member with the highest score for the key among those `eligible` accepts (all by default), or
 * undefined when none is. Ties (distinct ids with equal hashes) go to the earlier member.
 */
export function pickRendezvous<T extends RendezvousMember>(
  key: number,
  members: readonly T[],
  eligible?: (member: T) => boolean,
): T | undefined {
  let best: T | undefined;
  let bestScore = -1;
  for (const member of members) {
    if (eligible && !eligible(member)) continue;
    const score = rendezvousScore(key, member.rendezvousHash);
    if (score > bestScore) {
      best = member;
      bestScore = score;
    }
  }
  return best;
}
