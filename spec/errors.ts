/**
 * Problems found in an experiment spec, and the error that carries them.
 *
 * A problem names the field by a dotted path with list indices (`metrics.guardrails[1].action`), so a
 * person can find it in the YAML, and its message says both what was wrong and what would be valid.
 */

/** One thing wrong with a spec. `path` is empty when the problem concerns the whole document. */
export interface SpecProblem {
  /** Dotted field path with list indices, e.g. `variants.treatment.deployment`, `metrics.primary[0].mde`. */
  readonly path: string;
  /** What was wrong and what would be valid, e.g. `unknown deployment "chat-9b" (known: chat-8b)`. */
  readonly message: string;
}

/** Keys that read naturally after a dot; anything else (spaces, dots, quotes) is written as `["key"]`. */
const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/**
 * Dotted form of a zod-style path: numbers become `[i]`, plain keys `.key`, other keys `["key"]`.
 * `formatPath(["metrics", "guardrails", 1, "action"])` is `metrics.guardrails[1].action`.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const key = String(segment);
      if (PLAIN_KEY.test(key)) out += out === "" ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

/** `path: message`, or just the message for a problem about the whole document. */
export function formatProblem(problem: SpecProblem): string {
  return problem.path === "" ? problem.message : `${problem.path}: ${problem.message}`;
}

/**
 * A spec that cannot be used. It holds every problem found, not only the first, so one run of
 * `llm-ab validate` (or one `pulumi preview`) shows everything there is to fix.
 */
export class SpecError extends Error {
  readonly problems: readonly SpecProblem[];
  /** The file (or other origin, e.g. `Pulumi config`) the spec came from, when known. */
  readonly source: string | undefined;

  constructor(problems: readonly SpecProblem[], source?: string) {
    const where = source ?? "experiment spec";
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    const lines = problems.map((problem) => `  ${formatProblem(problem)}`);
    super([`${where}: ${count}`, ...lines].join("\n"));
    this.name = "SpecError";
    this.problems = problems;
    this.source = source;
  }
}
