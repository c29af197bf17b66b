/**
 * "Did you mean …?" for misspelt keys and names: the known name nearest to what was written.
 */

/** Edit distance (insertions, deletions, substitutions) between two strings. */
export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// Case and separators carry no meaning in a misspelling: `maxTokens`, `max-tokens` and `max_tokens`
// are the same intent.
function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_\s]/g, "");
}

const MAX_TYPO_LENGTH = 100;

/**
 * The known name closest to `written`, or undefined when none is close enough to be a plausible
 * typo (at most a third of the word's letters changed, and never more than 3).
 */
export function closestName(written: string, known: readonly string[]): string | undefined {
  // Nothing that long is a typo of a field name, and the quadratic distance would only waste time.
  if (written.length > MAX_TYPO_LENGTH) return undefined;
  const target = normalize(written);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = levenshtein(target, normalize(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.min(3, Math.max(1, Math.floor(target.length / 3)));
  return bestDistance <= allowed ? best : undefined;
}

/** `; did you mean "x"?` when a close known name exists, else the empty string. */
export function didYouMean(written: string, known: readonly string[]): string {
  const suggestion = closestName(written, known);
  return suggestion === undefined ? "" : `; did you mean "${suggestion}"?`;
}
