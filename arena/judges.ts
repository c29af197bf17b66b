/**
 * Level 3: an LLM judge. The rubric judge scores one answer per axis; the pairwise judge is asked
 * twice, once with each arm's answer shown first, because judges favour a position: only a
 * preference that survives the swap counts, and orders that disagree become a tie reported as
 * position-inconsistent.
 *
 * Parsing is strict: an answer that is not exactly the requested JSON throws a
 * {@link JudgeOutputError} with the raw text. A default score or a silent tie would turn a broken
 * judge into a plausible-looking result.
 */
import { type CallContext, cachedPostJson, type ResultsCache } from "./cache.ts";
import { endpointUrl, type Limiter, limit, type PostOptions } from "./client.ts";
import { pairwiseMessages, promptVersion, rubricMessages } from "./judge-prompts.ts";
import type {
  Arm,
  GoldenCase,
  JudgeConfig,
  PairwiseJudgement,
  PairwiseOrder,
  Rubric,
  RubricScore,
} from "./types.ts";

/** Which judge task produced an unusable answer. */
export type JudgeTask = "rubric" | "pairwise";

/** A judge answer that is not the requested JSON: the case, the task, what was wrong and the raw text. */
export class JudgeOutputError extends Error {
  readonly caseId: string;
  readonly task: JudgeTask;
  /** What was wrong, e.g. `scores.clarity must be an integer from 1 to 5, got 7`. */
  readonly problem: string;
  /** The judge's answer as it came. */
  readonly raw: string;

  constructor(caseId: string, task: JudgeTask, problem: string, raw: string, where = "") {
    const shown = raw.length > 500 ? `${raw.slice(0, 500)}…` : raw;
    super(
      `the ${task} judge's answer for case "${caseId}"${where} is unusable: ${problem}. Raw answer: ${shown}`,
    );
    this.name = "JudgeOutputError";
    this.caseId = caseId;
    this.task = task;
    this.problem = problem;
    this.raw = raw;
  }
}

/** A rubric judge's verdict: the scores (as types.ts RubricScore) with the judge's reason and raw answer. */
export interface RubricJudgement extends RubricScore {
  readonly reason: string;
  readonly raw: string;
}

/** One pairwise answer as parsed, in terms of positions. */
export interface PairwiseOutput {
  readonly preferred: "A" | "B" | "tie";
  readonly reason: string;
}

/** The judge's answer as one JSON object: the whole text, or one ```json fence around it. */
function parseObject(raw: string): Record<string, unknown> | string {
  const trimmed = raw.trim();
  const fence = /^```(?:json)?[ \t]*\r?\n([\s\S]*?)\r?\n?```$/i.exec(trimmed);
  const text = fence ? (fence[1] as string) : trimmed;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `it is not JSON (${(error as Error).message})`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "it is not a JSON object";
  return value as Record<string, unknown>;
}

function unknownKeys(value: Record<string, unknown>, allowed: readonly string[]): string[] {
  return Object.keys(value).filter((key) => !allowed.includes(key));
}

/** What is wrong with a rubric answer, or its scores and reason. */
export function checkRubricOutput(
  raw: string,
  rubric: Rubric,
): { scores: Record<string, number>; reason: string } | string {
  const value = parseObject(raw);
  if (typeof value === "string") return value;
  const extra = unknownKeys(value, ["scores", "reason"]);
  if (extra.length > 0)
    return `unexpected field(s) ${extra.join(", ")}: only "scores" and "reason" are allowed`;
  if (typeof value.reason !== "string") return `"reason" must be a string`;
  const scores = value.scores;
  if (typeof scores !== "object" || scores === null || Array.isArray(scores))
    return `"scores" must be an object`;
  const given = scores as Record<string, unknown>;
  const axes = rubric.axes.map((axis) => axis.name);
  const unknown = unknownKeys(given, axes);
  if (unknown.length > 0) return `unknown axis ${unknown.join(", ")} (axes: ${axes.join(", ")})`;
  const missing = axes.filter((axis) => !(axis in given));
  if (missing.length > 0) return `missing axis ${missing.join(", ")}`;
  const result: Record<string, number> = {};
  for (const axis of axes) {
    const score = given[axis];
    if (typeof score !== "number" || !Number.isInteger(score) || score < 1 || score > 5) {
      return `scores.${axis} must be an integer from 1 to 5, got ${JSON.stringify(score)}`;
    }
    result[axis] = score;
  }
  return { scores: result, reason: value.reason };
}

/** What is wrong with a pairwise answer, or its preference and reason. */
export function checkPairwiseOutput(raw: string): PairwiseOutput | string {
  const value = parseObject(raw);
  if (typeof value === "string") return value;
  const extra = unknownKeys(value, ["preferred", "reason"]);
  if (extra.length > 0)
    return `unexpected field(s) ${extra.join(", ")}: only "preferred" and "reason" are allowed`;
  const preferred = value.preferred;
  if (preferred !== "A" && preferred !== "B" && preferred !== "tie") {
    return `"preferred" must be "A", "B" or "tie", got ${JSON.stringify(preferred)}`;
  }
  if (typeof value.reason !== "string") return `"reason" must be a string`;
  return { preferred, reason: value.reason };
}

/** The verdict of two orders: the same arm twice wins, two ties tie, anything else is an inconsistent tie. */
export function combineOrders(
  first: Arm | "tie",
  second: Arm | "tie",
): { verdict: Arm | "tie"; consistent: boolean } {
  if (first === second) return { verdict: first, consistent: true };
  return { verdict: "tie", consistent: false };
}

/** Options of a {@link Judge}. */
export interface JudgeOptions {
  /** Base URL of the judge's OpenAI-compatible endpoint. */
  readonly endpoint: string;
  readonly model: string;
  /** Sent for deterministic decoding where the endpoint supports it. */
  readonly seed: number;
  /** Default 0. */
  readonly temperature?: number;
  /** Sent as `max_tokens`. Absent: not sent. */
  readonly maxTokens?: number;
  /** Shared with generation so one budget of connections holds for all calls. Default `limit(concurrency)`. */
  readonly limiter?: Limiter;
  /** Concurrent judge calls when no limiter is given. Default 4. */
  readonly concurrency?: number;
  readonly cache?: ResultsCache;
  readonly post?: PostOptions;
}

const other = (arm: Arm): Arm => (arm === "control" ? "treatment" : "control");

/** A judge model behind an endpoint: rubric scores and pairwise judgements, recorded with its configuration. */
export class Judge {
  readonly config: JudgeConfig;
  private readonly options: JudgeOptions;
  private readonly context: CallContext;

  constructor(options: JudgeOptions) {
    this.options = options;
    this.config = {
      endpoint: options.endpoint,
      model: options.model,
      temperature: options.temperature ?? 0,
      seed: options.seed,
      promptVersion,
    };
    this.context = {
      limiter: options.limiter ?? limit(options.concurrency ?? 4),
      ...(options.cache ? { cache: options.cache } : {}),
      ...(options.post ? { post: options.post } : {}),
    };
  }

  /** The judge's raw text for `messages`; a response without text is a JudgeOutputError. */
  private async ask(caseId: string, task: JudgeTask, messages: readonly unknown[]): Promise<string> {
    const body = {
      model: this.config.model,
      messages,
      temperature: this.config.temperature,
      seed: this.config.seed,
      ...(this.options.maxTokens === undefined ? {} : { max_tokens: this.options.maxTokens }),
    };
    const url = endpointUrl(this.config.endpoint, "/v1/chat/completions");
    const { json } = await cachedPostJson(url, body, this.context);
    const content = (json as { choices?: { message?: { content?: unknown } }[] })?.choices?.[0]?.message
      ?.content;
    if (typeof content !== "string") {
      throw new JudgeOutputError(
        caseId,
        task,
        "the response has no text in choices[0].message.content",
        JSON.stringify(json),
      );
    }
    return content;
  }

  /** Scores `answer` (the `arm`'s answer to `testCase`) on every axis of `rubric`. */
  async score(testCase: GoldenCase, arm: Arm, answer: string, rubric: Rubric): Promise<RubricJudgement> {
    const raw = await this.ask(testCase.id, "rubric", rubricMessages(testCase, answer, rubric));
    const parsed = checkRubricOutput(raw, rubric);
    if (typeof parsed === "string")
      throw new JudgeOutputError(testCase.id, "rubric", parsed, raw, ` (${arm})`);
    return {
      caseId: testCase.id,
      arm,
      scores: parsed.scores,
      judge: this.config,
      reason: parsed.reason,
      raw,
    };
  }

  /** One presentation order: `first`'s answer shown as A. */
  private async order(
    testCase: GoldenCase,
    first: Arm,
    answers: Readonly<Record<Arm, string>>,
    criteria: Rubric | undefined,
  ): Promise<PairwiseOrder> {
    const messages = pairwiseMessages(testCase, answers[first], answers[other(first)], criteria);
    const raw = await this.ask(testCase.id, "pairwise", messages);
    const parsed = checkPairwiseOutput(raw);
    if (typeof parsed === "string") {
      throw new JudgeOutputError(testCase.id, "pairwise", parsed, raw, ` (${first} shown as A)`);
    }
    const preferred = parsed.preferred === "tie" ? "tie" : parsed.preferred === "A" ? first : other(first);
    return { first, preferred, raw };
  }

  /**
   * Asks which answer is better twice, control shown as A and then treatment shown as A, and
   * combines the two (see {@link combineOrders}). `criteria` lists a rubric's axes in the prompt.
   */
  async judgePair(
    testCase: GoldenCase,
    control: string,
    treatment: string,
    criteria?: Rubric,
  ): Promise<PairwiseJudgement> {
    const answers = { control, treatment };
    const [controlFirst, treatmentFirst] = await Promise.all([
      this.order(testCase, "control", answers, criteria),
      this.order(testCase, "treatment", answers, criteria),
    ]);
    const { verdict, consistent } = combineOrders(controlFirst.preferred, treatmentFirst.preferred);
    return {
      caseId: testCase.id,
      orders: [controlFirst, treatmentFirst],
      verdict,
      consistent,
      judge: this.config,
    };
  }
}
