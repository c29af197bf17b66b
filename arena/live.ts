/**
 * Online judging: the arena's rubric judge (judges.ts `Judge.score`) scores a sampled slice of live
 * answers from the router's log (router/records.ts), off the request path, and the scores become
 * per-variant judge metrics.
 *
 * ### Which records carry answers
 * - `shadow` records (shadow mode): `text` is the treatment's mirrored answer, `controlText` the
 *   answer control gave the user to the same request. Both are judged; a request with both is a
 *   pair. A mirrored call that failed (status not 2xx) has no treatment answer to judge.
 * - `exposure` records (A/B mode) carry the answer `text` and the application's `messages` on the
 *   share of requests `router.answerSamplePercent` keeps (default 0: none); each is judged as the
 *   answer of the variant that served it.
 * - Blank answers are skipped and counted: judging "" would score a logging gap as a bad answer.
 *
 * ### The prompt
 * Sampled exposures keep the application's chat messages, so the judge sees the conversation.
 * Shadow records keep no messages: the judge gets judge-prompts.ts's rubric prompt with an empty
 * conversation and no context, and scores the answer on its own. Axes that need the
 * question (accuracy against the order facts) are judged from the answer alone, so compare
 * variants with each other here, not these levels with the offline gate's.
 *
 * ### Sampling
 * share(requestId) = the first 48 bits of sha256("llm-ab:judge-live:" + requestId) / 2^48, and a
 * record is sampled when share < `sample`. A rerun, or a longer log, judges the same requests, and
 * a larger share keeps every request of a smaller one. `max` keeps the sampled records of smallest
 * share: a uniform thinning over the log's whole period, not its first hours.
 *
 * ### Where the scores go
 * - A/B answers: one `outcome` record per answer and rubric axis, metric `judge_<axis>`, in the
 *   router's format, attributed to the unit's assigned variant as the router attributes every
 *   outcome (intent to treat), with the judge configuration (`judge`), the rubric's hash and the
 *   `requestId`. A copy of the log with these appended is what `llm-ab analyze --data` reads: the
 *   unit exists through its exposures, and a continuous metric is the mean of its judged turns.
 * - Shadow answers: nobody was served the treatment (every user got control), so there is no
 *   treatment arm and `analyze` refuses shadow specs. Their scores are written as outcome records
 *   too, for the record, with `variant` the variant whose answer was scored and `shadow: true`,
 *   but never merged into a log for `analyze`. The comparison is the paired difference of
 *   treatment − control scores on the same requests (stats/paired.ts), in {@link summarizeLive}.
 */
import { appendFile, copyFile, open, writeFile } from "node:fs/promises";
import type { OutcomeRecord } from "../router/records.ts";
import { tQuantile } from "../stats/distributions.ts";
import type { Interval } from "../stats/effect.ts";
import { type PairedDiff, pairedDifference } from "../stats/paired.ts";
import type { Judge } from "./judges.ts";
import { type LiveAnswer, LiveLogError, type LiveRecord, type LiveSlice } from "./live-log.ts";
import { rubricHash } from "./rubric.ts";
import type { GoldenCase, JudgeConfig, Rubric } from "./types.ts";

export {
  type LiveAnswer,
  LiveLogError,
  type LiveRecord,
  type LiveSlice,
  readLiveSlice,
  type SliceOptions,
  sampleShare,
} from "./live-log.ts";

/** One judged answer. */
export interface LiveScore {
  readonly record: LiveRecord;
  readonly answer: LiveAnswer;
  /** 1–5 per rubric axis. */
  readonly scores: Readonly<Record<string, number>>;
  readonly reason: string;
  readonly judge: JudgeConfig;
}

/**
 * Scores every answer of the slice with `judge` (its limiter bounds the calls in flight, its cache
 * makes a rerun free). A call that fails or an answer the judge cannot parse stops the run with
 * the log line and field of the answer: a default score would look like a real one.
 */
export async function judgeSlice(
  slice: LiveSlice,
  judge: Judge,
  rubric: Rubric,
  onProgress?: (done: number, total: number) => void,
): Promise<LiveScore[]> {
  const tasks = slice.records.flatMap((record) => record.answers.map((answer) => ({ record, answer })));
  let done = 0;
  return Promise.all(
    tasks.map(async ({ record, answer }) => {
      // Sampled exposures keep the conversation; shadow records do not, so the judge then scores
      // the answer on its own (an empty conversation).
      const testCase: GoldenCase = {
        id: record.requestId,
        messages: record.messages ?? [],
        tags: [],
        checks: [],
      };
      try {
        const judged = await judge.score(testCase, answer.arm, answer.text, rubric);
        onProgress?.(++done, tasks.length);
        return { record, answer, scores: judged.scores, reason: judged.reason, judge: judged.judge };
      } catch (error) {
        const what = `judging ${answer.variant}'s answer to request "${record.requestId}" failed`;
        throw new LiveLogError(
          slice.file,
          record.line,
          answer.field,
          `${what}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    }),
  );
}

/** A judge score as an outcome record, with the judge that gave it. */
export interface JudgedOutcome extends OutcomeRecord {
  readonly requestId: string;
  readonly judge: JudgeConfig;
  /** sha256 of the rubric (rubric.ts `rubricHash`): a changed anchor is another scale. */
  readonly rubricHash: string;
  /** Present on scores of shadow answers, which `analyze` must not read as an A/B arm. */
  readonly shadow?: true;
}

/** One outcome record per judged answer and rubric axis, in log order (see the module comment). */
export function judgedOutcomes(scores: readonly LiveScore[], rubric: Rubric): JudgedOutcome[] {
  const hash = rubricHash(rubric);
  return scores.flatMap(({ record, answer, scores: byAxis, judge }) =>
    rubric.axes.map((axis) => ({
      type: "outcome" as const,
      t: record.t,
      experiment: record.experiment,
      unit: record.unit,
      variant: record.assigned ?? answer.variant,
      metric: `judge_${axis.name}`,
      value: byAxis[axis.name] as number,
      requestId: record.requestId,
      judge,
      rubricHash: hash,
      ...(record.source === "shadow" ? { shadow: true as const } : {}),
    })),
  );
}

/** Mean score of one axis with its t interval. */
export interface AxisMean {
  readonly axis: string;
  readonly n: number;
  readonly mean: number;
  /** Sample SD (ddof = 1); 0 below two scores. */
  readonly sd: number;
  /** Two-sided 1 − alpha t interval of the mean; null below two scores. */
  readonly ci: Interval | null;
}

/** One variant's judged answers, from exposures (A/B) or from shadow records. */
export interface VariantScores {
  readonly source: "exposure" | "shadow";
  /** The variant that wrote the answers. */
  readonly variant: string;
  readonly answers: number;
  readonly axes: readonly AxisMean[];
}

/** Shadow requests where both answers were judged: treatment − control per axis. */
export interface ShadowPairs {
  readonly treatment: string;
  readonly control: string;
  readonly pairs: number;
  /** Paired t of treatment − control; null below two pairs. */
  readonly axes: readonly { readonly axis: string; readonly diff: PairedDiff | null }[];
}

export interface LiveSummary {
  readonly alpha: number;
  readonly variants: readonly VariantScores[];
  readonly pairs: readonly ShadowPairs[];
}

function axisMean(axis: string, values: readonly number[], alpha: number): AxisMean {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { axis, n, mean, sd: 0, ci: null };
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const half = tQuantile(1 - alpha / 2, n - 1) * (sd / Math.sqrt(n));
  return { axis, n, mean, sd, ci: [mean - half, mean + half] };
}

/**
 * Per variant and axis, the mean score with its t interval, grouped by the variant that wrote the
 * answers (for A/B, `analyze` on the merged log gives the intent-to-treat test per unit); and for
 * shadow pairs, the paired difference, each request being its own control.
 */
export function summarizeLive(scores: readonly LiveScore[], rubric: Rubric, alpha: number): LiveSummary {
  const groups = new Map<string, LiveScore[]>();
  for (const score of scores) {
    const key = JSON.stringify([score.record.source, score.answer.variant]);
    groups.set(key, [...(groups.get(key) ?? []), score]);
  }
  const variants = [...groups.values()].map((group) => {
    const { record, answer } = group[0] as LiveScore;
    return {
      source: record.source,
      variant: answer.variant,
      answers: group.length,
      axes: rubric.axes.map((axis) =>
        axisMean(
          axis.name,
          group.map((score) => score.scores[axis.name] as number),
          alpha,
        ),
      ),
    };
  });
  const byRecord = new Map<LiveRecord, LiveScore[]>();
  for (const score of scores) {
    if (score.record.source === "shadow")
      byRecord.set(score.record, [...(byRecord.get(score.record) ?? []), score]);
  }
  const pairGroups = new Map<string, { control: LiveScore; treatment: LiveScore }[]>();
  for (const both of byRecord.values()) {
    const control = both.find((score) => score.answer.arm === "control");
    const treatment = both.find((score) => score.answer.arm === "treatment");
    if (control === undefined || treatment === undefined) continue;
    const key = JSON.stringify([treatment.answer.variant, control.answer.variant]);
    pairGroups.set(key, [...(pairGroups.get(key) ?? []), { control, treatment }]);
  }
  const pairs = [...pairGroups.values()].map((group) => {
    const { control, treatment } = group[0] as (typeof group)[number];
    return {
      treatment: treatment.answer.variant,
      control: control.answer.variant,
      pairs: group.length,
      axes: rubric.axes.map(({ name }) => ({
        axis: name,
        diff:
          group.length < 2
            ? null
            : pairedDifference(
                group.map((pair) => pair.treatment.scores[name] as number),
                group.map((pair) => pair.control.scores[name] as number),
                alpha,
              ),
      })),
    };
  });
  return { alpha, variants, pairs };
}

const jsonl = (records: readonly unknown[]) =>
  records.map((record) => `${JSON.stringify(record)}\n`).join("");

/** Writes the judged outcomes as JSONL to `path` (replacing it). */
export async function writeOutcomes(path: string, outcomes: readonly JudgedOutcome[]): Promise<void> {
  await writeFile(path, jsonl(outcomes), "utf8");
}

/**
 * Writes to `mergePath` a copy of the log with the A/B outcomes appended: what `llm-ab analyze
 * --data` reads. Shadow scores are left out (module comment); returns how many records it appended.
 */
export async function mergeOutcomes(
  logPath: string,
  mergePath: string,
  outcomes: readonly JudgedOutcome[],
): Promise<number> {
  const ab = outcomes.filter((outcome) => outcome.shadow === undefined);
  await copyFile(logPath, mergePath);
  const handle = await open(mergePath, "r");
  let newline = true;
  try {
    const { size } = await handle.stat();
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      newline = last[0] === 0x0a;
    }
  } finally {
    await handle.close();
  }
  // A log cut mid-write ends without a newline; the first appended record must not join its line.
  await appendFile(mergePath, `${newline ? "" : "\n"}${jsonl(ab)}`, "utf8");
  return ab.length;
}
