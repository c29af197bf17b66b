/**
 * A replica's prefix cache, as vLLM's automatic prefix caching behaves for a conversation: the KV of
 * a prompt prefix seen before is reused, so a conversation's next turn on the same replica only
 * prefills what is new. Prefixes are remembered at message boundaries (see `chatSegments`), in a
 * bounded LRU so a long run does not grow without end.
 */
import type { PromptSegment } from "./text.ts";

/** Prefixes a replica remembers before evicting the least recently used. */
export const PREFIX_CACHE_CAPACITY = 10_000;

/** What the cache did for one prompt, in tokens (vLLM counts prefix-cache queries and hits in tokens). */
export interface PrefixLookup {
  /** Prompt tokens looked up: the whole prompt. */
  readonly queried: number;
  /** Prompt tokens served from the cache. */
  readonly hit: number;
}

export class PrefixCache {
  // A Map iterates in insertion order: re-inserting on use makes its first key the least recent.
  private readonly entries = new Map<string, true>();

  constructor(private readonly capacity = PREFIX_CACHE_CAPACITY) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Looks up the longest cached prefix of `segments` and remembers every prefix of it. Like vLLM,
   * at least the last prompt token is computed again, so a fully cached prompt hits all but one.
   */
  lookup(segments: readonly PromptSegment[]): PrefixLookup {
    const queried = segments.reduce((sum, segment) => sum + segment.tokens, 0);
    let hit = 0;
    let prefixTokens = 0;
    for (const segment of segments) {
      prefixTokens += segment.tokens;
      if (this.entries.has(segment.prefixHash)) hit = prefixTokens;
      else break;
    }
    this.remember(segments);
    return { queried, hit: Math.min(hit, Math.max(0, queried - 1)) };
  }

  /** Remembers every prefix of `segments` (e.g. a prompt followed by the answer it got). */
  remember(segments: readonly PromptSegment[]): void {
    for (const { prefixHash } of segments) {
      this.entries.delete(prefixHash);
      this.entries.set(prefixHash, true);
    }
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}
