/**
 * The router's event log read for team-draft interleaving (`llm-ab interleaving analyze`): the
 * `interleaving` records (one list per query, each item with the variant whose ranker placed it)
 * joined by queryId with the `interleaving_feedback` records (the items the user clicked or used).
 * The router keeps no per-query state (router/interleave.ts), so this join is where lists and clicks
 * meet; other record types in the log are skipped.
 *
 * Rules, and why:
 * - **One list per queryId.** Two lists under one id (a retried request that reused its id) make
 *   its clicks ambiguous: every list of that id and its feedback are left out, and counted.
 * - **A seed per query.** The router draws one for every list; a caller that fixes it makes every
 *   query flip the same coins, so one ranker always picks first in the same slots and position
 *   bias becomes a false preference. Lists that share a seed are counted, and the conclusion
 *   refuses to name a winner while any do.
 * - **Feedback joins its list.** A query's feedback records are pooled (one post per click is fine)
 *   and each clicked id is looked up in the list; an id the list never showed is an error naming
 *   the feedback's line (the application is reporting clicks on something else). Feedback whose
 *   queryId has no list is counted and reported, not fatal: the list may sit in another replica's
 *   log, or the router withheld the treatment (paused) and served no interleaved list.
 * - **A list without feedback is a query without clicks**: it counts in `queries` with no
 *   preference, as `analyzeInterleaving` expects (it separates such queries from ties).
 * - **One experiment and one pair of rankers.** With several treatments, lists may compare control
 *   with each: choose one with `treatment` (feedback for the other pairs' lists is then dropped,
 *   not reported as orphaned).
 * - A malformed line stops the analysis with its file, line and field (up to 20 problems listed),
 *   like a bad row of unit-level data.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import {
  analyzeInterleaving,
  type InterleavedItem,
  type InterleavingResult,
  type QueryCredit,
  queryCredit,
  type Team,
} from "../stats/interleaving.ts";
import { DataError, type DataProblem } from "./locate-errors.ts";

/** Problems beyond this many are counted, not listed. */
const MAX_LISTED = 20;
/** Orphaned queryIds named in the result; the rest are only counted. */
const MAX_ORPHAN_EXAMPLES = 5;

/** Options of {@link analyzeInterleavingLog}. */
export interface InterleavingLogOptions {
  /** Two-sided level of the interval and the sign test. Default 0.05. */
  readonly alpha?: number;
  /** The treatment variant to compare with control; required only when the log holds several. */
  readonly treatment?: string;
}

/** What an interleaving log says: the analysis, and how the log's records joined. */
export interface InterleavingLogReport {
  readonly file: string;
  readonly experiment: string;
  /** Variant name of team A's ranker. */
  readonly control: string;
  /** Variant name of team B's ranker: `result.preferenceB` is the preference for it. */
  readonly treatment: string;
  readonly alpha: number;
  /** Interleaved lists analysed (one per query). */
  readonly lists: number;
  /** Lists with at least one feedback record (possibly with no item in it). */
  readonly withFeedback: number;
  /** Feedback records whose queryId has no list in the log. */
  readonly orphanFeedback: number;
  /** Distinct queryIds among them, and the first few of those ids. */
  readonly orphanQueries: number;
  readonly orphanExamples: readonly string[];
  /** queryIds with more than one list (left out, with their feedback), and the lists they held. */
  readonly ambiguousQueries: number;
  readonly ambiguousLists: number;
  /** Analysed lists whose seed another analysed list also used: not randomized per query. */
  readonly repeatedSeeds: number;
  readonly result: InterleavingResult;
}

/** One interleaved list as recorded. */
interface ListEntry {
  readonly line: number;
  readonly seed: number;
  readonly control: string;
  readonly treatment: string;
  readonly items: InterleavedItem<string>[];
}

/** One feedback record as recorded. */
interface FeedbackEntry {
  readonly line: number;
  readonly items: readonly string[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const nonEmpty = (value: unknown): value is string => typeof value === "string" && value !== "";

const got = (value: unknown) => `got ${JSON.stringify(value) ?? String(value)}`;

/** Collects problems, listing the first {@link MAX_LISTED}. */
class Problems {
  readonly listed: DataProblem[] = [];
  total = 0;
  constructor(private readonly file: string) {}
  add(line: number, field: string | undefined, message: string): void {
    this.total++;
    if (this.listed.length < MAX_LISTED)
      this.listed.push({ file: this.file, line, ...(field === undefined ? {} : { field }), message });
  }
}

/** Everything read from the log before the join. */
interface Scan {
  experiment?: { name: string; line: number };
  readonly lists: Map<string, ListEntry>;
  /** queryIds that named more than one list: ambiguous, left out. */
  readonly ambiguous: Map<string, number>;
  readonly feedback: Map<string, FeedbackEntry[]>;
  feedbackRecords: number;
}

function checkExperiment(rec: Record<string, unknown>, line: number, scan: Scan, problems: Problems): void {
  const experiment = rec.experiment;
  if (!nonEmpty(experiment)) {
    problems.add(line, "experiment", `expected the experiment name (${got(experiment)})`);
  } else if (scan.experiment === undefined) {
    scan.experiment = { name: experiment, line };
  } else if (experiment !== scan.experiment.name) {
    problems.add(
      line,
      "experiment",
      `"${experiment}" here but "${scan.experiment.name}" on line ${scan.experiment.line}: one experiment per log (split it, e.g. jq -c 'select(.experiment == "${scan.experiment.name}")')`,
    );
  }
}

function readList(rec: Record<string, unknown>, line: number, scan: Scan, problems: Problems): void {
  const before = problems.total;
  const { queryId, control, treatment, items } = rec;
  if (!nonEmpty(queryId)) problems.add(line, "queryId", `expected the list's query id (${got(queryId)})`);
  if (!Number.isInteger(rec.seed))
    problems.add(line, "seed", `expected the team draft's seed (${got(rec.seed)})`);
  if (!nonEmpty(control)) problems.add(line, "control", `expected control's variant name (${got(control)})`);
  if (!nonEmpty(treatment))
    problems.add(line, "treatment", `expected the treatment's variant name (${got(treatment)})`);
  else if (treatment === control) problems.add(line, "treatment", `is control's name too ("${control}")`);
  const list: InterleavedItem<string>[] = [];
  if (!Array.isArray(items)) {
    problems.add(line, "items", `expected the interleaved items, [{ id, team }] (${got(items)})`);
  } else if (nonEmpty(control) && nonEmpty(treatment)) {
    const seen = new Set<string>();
    for (const [i, item] of items.entries()) {
      const id: unknown = isObject(item) ? item.id : undefined;
      const team: unknown = isObject(item) ? item.team : undefined;
      if (!nonEmpty(id)) {
        problems.add(line, `items[${i}].id`, `expected an item id (${got(id)})`);
      } else if (seen.has(id)) {
        problems.add(line, `items[${i}].id`, `"${id}" is in the list twice`);
      } else if (team !== control && team !== treatment) {
        problems.add(line, `items[${i}].team`, `expected "${control}" or "${treatment}" (${got(team)})`);
      } else {
        seen.add(id);
        list.push({ item: id, team: (team === control ? "A" : "B") satisfies Team });
      }
    }
  }
  if (problems.total > before || !nonEmpty(queryId) || !nonEmpty(control) || !nonEmpty(treatment)) return;
  const repeats = scan.ambiguous.get(queryId);
  if (repeats !== undefined) {
    scan.ambiguous.set(queryId, repeats + 1);
    return;
  }
  if (scan.lists.has(queryId)) {
    scan.lists.delete(queryId);
    scan.ambiguous.set(queryId, 2);
    return;
  }
  scan.lists.set(queryId, { line, seed: rec.seed as number, control, treatment, items: list });
}

function readFeedback(rec: Record<string, unknown>, line: number, scan: Scan, problems: Problems): void {
  const { queryId, items } = rec;
  scan.feedbackRecords++;
  let ok = true;
  if (!nonEmpty(queryId)) {
    problems.add(line, "queryId", `expected the query id of the list (${got(queryId)})`);
    ok = false;
  }
  if (!Array.isArray(items)) {
    problems.add(line, "items", `expected the clicked or used item ids (${got(items)})`);
    ok = false;
  } else {
    const bad = items.findIndex((id) => !nonEmpty(id));
    if (bad >= 0) {
      problems.add(line, `items[${bad}]`, `expected an item id (${got(items[bad])})`);
      ok = false;
    }
  }
  if (!ok) return;
  const entries = scan.feedback.get(queryId as string);
  const entry = { line, items: items as string[] };
  if (entries === undefined) scan.feedback.set(queryId as string, [entry]);
  else entries.push(entry);
}

/** Reads every line of the log, checking the two interleaving record types and skipping the rest. */
async function scanLog(file: string, problems: Problems): Promise<Scan> {
  const scan: Scan = { lists: new Map(), ambiguous: new Map(), feedback: new Map(), feedbackRecords: 0 };
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === "") continue;
    let rec: unknown;
    try {
      rec = JSON.parse(text);
    } catch (error) {
      problems.add(line, undefined, `not valid JSON: ${(error as Error).message}`);
      continue;
    }
    if (!isObject(rec)) {
      problems.add(line, undefined, "expected a JSON object (one event-log record per line)");
      continue;
    }
    if (!nonEmpty(rec.type)) {
      problems.add(
        line,
        "type",
        `expected the record type (${got(rec.type)}); is this the router's event log?`,
      );
      continue;
    }
    if (rec.type !== "interleaving" && rec.type !== "interleaving_feedback") continue;
    if (typeof rec.t !== "string") problems.add(line, "t", `expected the record's ISO time (${got(rec.t)})`);
    checkExperiment(rec, line, scan, problems);
    if (rec.type === "interleaving") readList(rec, line, scan, problems);
    else readFeedback(rec, line, scan, problems);
  }
  return scan;
}

/** The one pair of rankers the lists compare (or the asked-for treatment's), or a problem. */
function pairOf(scan: Scan, treatment: string | undefined, problems: Problems): [string, string] | undefined {
  const pairs = new Map<string, ListEntry>();
  for (const list of scan.lists.values()) {
    const key = JSON.stringify([list.control, list.treatment]);
    if (!pairs.has(key)) pairs.set(key, list);
  }
  const all = [...pairs.values()];
  const chosen = treatment === undefined ? all : all.filter((list) => list.treatment === treatment);
  const describe = (lists: ListEntry[]) =>
    lists.map((l) => `${l.treatment} vs ${l.control} (first on line ${l.line})`).join(", ");
  const [first, ...others] = chosen;
  if (first === undefined) {
    if (treatment !== undefined)
      problems.add(
        0,
        "treatment",
        `no list compares "${treatment}"; the log has ${describe(all) || "no lists"}`,
      );
    return undefined;
  }
  if (others.length > 0) {
    problems.add(
      others[0]?.line ?? 0,
      treatment === undefined ? "treatment" : "control",
      `the lists compare several pairs of rankers: ${describe(chosen)}; analyse one at a time${treatment === undefined ? " (name its treatment)" : ""}`,
    );
    return undefined;
  }
  return [first.control, first.treatment];
}

/**
 * Reads an event log and analyses its interleaved lists: per-query credit from the joined feedback
 * (stats/interleaving.ts queryCredit), then B's (the treatment's) preference with its Wilson
 * interval and the exact sign test (analyzeInterleaving).
 *
 * Throws a DataError naming file, line and field for malformed records, feedback
 * naming items its list did not show, several experiments or rankers in one log, or no list at
 * all; a RangeError for an alpha outside (0, 1).
 */
export async function analyzeInterleavingLog(
  file: string,
  options: InterleavingLogOptions = {},
): Promise<InterleavingLogReport> {
  const alpha = options.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const problems = new Problems(file);
  const scan = await scanLog(file, problems);
  if (problems.total > 0) throw new DataError(problems.listed, problems.total);
  const pair = pairOf(scan, options.treatment, problems);
  if (pair === undefined || scan.experiment === undefined) {
    if (problems.total === 0) {
      problems.add(
        0,
        undefined,
        "no interleaving lists (records of type interleaving): serve them through POST /v1/interleave on a router started with --events",
      );
    }
    throw new DataError(problems.listed, problems.total);
  }
  const [control, treatment] = pair;

  const credits: QueryCredit[] = [];
  let withFeedback = 0;
  const seeds = new Map<number, number>();
  for (const list of scan.lists.values()) {
    if (list.control === control && list.treatment === treatment)
      seeds.set(list.seed, (seeds.get(list.seed) ?? 0) + 1);
  }
  for (const [queryId, list] of scan.lists) {
    if (list.control !== control || list.treatment !== treatment) continue;
    const feedback = scan.feedback.get(queryId) ?? [];
    if (feedback.length > 0) withFeedback++;
    const positions = new Map(list.items.map((entry, i) => [entry.item, i]));
    const clicked: number[] = [];
    for (const entry of feedback) {
      for (const [i, id] of entry.items.entries()) {
        const position = positions.get(id);
        if (position === undefined) {
          problems.add(
            entry.line,
            `items[${i}]`,
            `"${id}" is not in the list of query "${queryId}" (line ${list.line}); feedback names items the list showed`,
          );
        } else {
          clicked.push(position);
        }
      }
    }
    credits.push(queryCredit(list.items, clicked));
  }
  if (problems.total > 0) throw new DataError(problems.listed, problems.total);

  let orphanFeedback = 0;
  const orphanIds: string[] = [];
  for (const [queryId, entries] of scan.feedback) {
    if (scan.lists.has(queryId) || scan.ambiguous.has(queryId)) continue;
    orphanFeedback += entries.length;
    orphanIds.push(queryId);
  }
  return {
    file,
    experiment: scan.experiment.name,
    control,
    treatment,
    alpha,
    lists: credits.length,
    withFeedback,
    orphanFeedback,
    orphanQueries: orphanIds.length,
    orphanExamples: orphanIds.slice(0, MAX_ORPHAN_EXAMPLES),
    ambiguousQueries: scan.ambiguous.size,
    ambiguousLists: [...scan.ambiguous.values()].reduce((a, n) => a + n, 0),
    repeatedSeeds: [...seeds.values()].filter((n) => n > 1).reduce((a, n) => a + n, 0),
    result: analyzeInterleaving(credits, alpha),
  };
}
