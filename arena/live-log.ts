/**
 * Reading a router log for online judging (live.ts): every record checked (type, experiment,
 * answer fields, naming file, line and field), the answers each record carries, and the
 * deterministic sample of requests to judge. See live.ts for which records carry answers and how
 * the sample is drawn.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Arm, ChatMessage } from "./types.ts";

/** A log that cannot be judged, or an answer that could not be: the file, the line and the field. */
export class LiveLogError extends Error {
  readonly file: string;
  /** 1-based; 0 when the problem is the whole file. */
  readonly line: number;
  readonly field: string | undefined;

  constructor(
    file: string,
    line: number,
    field: string | undefined,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(
      `${file}${line > 0 ? `:${line}` : ""}${field === undefined ? "" : ` (${field})`}: ${problem}`,
      options,
    );
    this.name = "LiveLogError";
    this.file = file;
    this.line = line;
    this.field = field;
  }
}

/** One answer of a record: which variant wrote it, and the record field holding it. */
export interface LiveAnswer {
  readonly variant: string;
  readonly arm: Arm;
  readonly field: "text" | "controlText";
  readonly text: string;
}

/** A log record with at least one answer to judge. */
export interface LiveRecord {
  readonly line: number;
  readonly source: "exposure" | "shadow";
  readonly requestId: string;
  readonly t: string;
  readonly experiment: string;
  /** May be "" for a shadow request without a unit id. */
  readonly unit: string;
  /** Exposures: the unit's sticky assignment, which owns its outcomes. */
  readonly assigned?: string;
  readonly answers: readonly LiveAnswer[];
  /** Sampled A/B exposures (router.answerSamplePercent): the application's chat messages. */
  readonly messages?: readonly ChatMessage[];
  /** Sampling share in [0, 1). */
  readonly share: number;
}

/** What a log holds and the slice of it to judge. */
export interface LiveSlice {
  readonly file: string;
  /** The log's experiment, and the line that first named it. */
  readonly experiment?: { readonly name: string; readonly line: number };
  /** Records read (non-blank lines). */
  readonly read: number;
  /** Records with an answer to judge, by type. */
  readonly withText: { readonly exposure: number; readonly shadow: number };
  /** Sampled before `max` applied. */
  readonly sampled: number;
  /** The records to judge, in log order. */
  readonly records: readonly LiveRecord[];
  /** Answers left out: mirrored calls that failed, blank texts. */
  readonly skipped: { readonly failedShadow: number; readonly blank: number };
}

export interface SliceOptions {
  /** Share of requests judged, in (0, 1]. */
  readonly sample: number;
  /** Most records judged. Default: no cap. */
  readonly max?: number;
  /** The spec's control variant: whose answer a shadow record's `controlText` is. */
  readonly controlVariant: string;
}

/** The sampling share of a request, in [0, 1): a hash, so reruns pick the same requests. */
export function sampleShare(requestId: string): number {
  const digest = createHash("sha256").update(`llm-ab:judge-live:${requestId}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

const recordTypes = ["exposure", "outcome", "shadow"];

type Problem = (field: string, problem: string) => never;
type Skipped = { failedShadow: number; blank: number };

function requiredString(rec: Record<string, unknown>, field: string, bad: Problem): string {
  const value = rec[field];
  if (typeof value !== "string" || value === "")
    bad(field, `expected a non-empty string, got ${JSON.stringify(value)}`);
  return value as string;
}

/** The answer text in `field`, or undefined (and counted) when it is blank. */
function answerText(rec: Record<string, unknown>, field: string, bad: Problem, skipped: Skipped) {
  const value = rec[field];
  if (typeof value !== "string") bad(field, `expected the answer text, got ${JSON.stringify(value)}`);
  if ((value as string).trim() !== "") return value as string;
  skipped.blank++;
  return undefined;
}

/**
 * The chat messages a sampled exposure kept, when they are a list of `{ role, content: string }`
 * (a completions prompt, or content parts, is not a conversation the rubric prompt can show).
 */
function chatMessages(value: unknown): ChatMessage[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const roles = new Set(["system", "user", "assistant"]);
  const ok = value.every(
    (m) =>
      typeof m === "object" &&
      m !== null &&
      roles.has((m as { role?: unknown }).role as string) &&
      typeof (m as { content?: unknown }).content === "string",
  );
  return ok ? (value as ChatMessage[]) : undefined;
}

/** The answers of one exposure or shadow record (checked, naming the field), or none. */
function answersOf(
  rec: Record<string, unknown>,
  control: string,
  bad: Problem,
  skipped: Skipped,
): LiveAnswer[] {
  if (rec.type === "exposure") {
    if (rec.text === undefined) return [];
    const served = requiredString(rec, "variant", bad);
    requiredString(rec, "assigned", bad);
    requiredString(rec, "unit", bad);
    const text = answerText(rec, "text", bad, skipped);
    const arm: Arm = served === control ? "control" : "treatment";
    return text === undefined ? [] : [{ variant: served, arm, field: "text", text }];
  }
  const treatment = requiredString(rec, "variant", bad);
  const status = rec.status;
  if (typeof status !== "number" || !Number.isFinite(status))
    bad("status", `expected the mirrored call's HTTP status, got ${JSON.stringify(status)}`);
  if (typeof rec.unit !== "string")
    bad("unit", `expected the unit id (may be ""), got ${JSON.stringify(rec.unit)}`);
  const answers: LiveAnswer[] = [];
  if (rec.controlText !== undefined) {
    const text = answerText(rec, "controlText", bad, skipped);
    if (text !== undefined) answers.push({ variant: control, arm: "control", field: "controlText", text });
  }
  // A failed mirrored call's text is whatever was captured before the failure, not an answer.
  if ((status as number) < 200 || (status as number) >= 300) skipped.failedShadow++;
  else {
    const text = answerText(rec, "text", bad, skipped);
    if (text !== undefined) answers.push({ variant: treatment, arm: "treatment", field: "text", text });
  }
  return answers;
}

/**
 * Reads a router log (event log or shadow log) and picks the slice to judge (see the module
 * comment). Every record's type and experiment are checked, and every record with answer text in
 * full, whether sampled or not, so an error never depends on the sample.
 */
export async function readLiveSlice(file: string, options: SliceOptions): Promise<LiveSlice> {
  if (!(options.sample > 0 && options.sample <= 1))
    throw new RangeError(`sample must be a share in (0, 1], got ${options.sample}`);
  const skipped: Skipped = { failedShadow: 0, blank: 0 };
  const withText = { exposure: 0, shadow: 0 };
  const sampled: LiveRecord[] = [];
  let experiment: LiveSlice["experiment"];
  let read = 0;
  let line = 0;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() === "") continue;
      read++;
      const at = line;
      const bad: Problem = (field, problem) => {
        throw new LiveLogError(file, at, field, problem);
      };
      let rec: unknown;
      try {
        rec = JSON.parse(text);
      } catch (error) {
        throw new LiveLogError(file, at, undefined, `not a JSON record (${(error as Error).message})`);
      }
      if (typeof rec !== "object" || rec === null || Array.isArray(rec))
        throw new LiveLogError(
          file,
          at,
          undefined,
          "not a JSON object: a router log holds one record per line",
        );
      const record = rec as Record<string, unknown>;
      if (typeof record.type !== "string" || !recordTypes.includes(record.type))
        bad("type", `expected ${recordTypes.join(", ")}, got ${JSON.stringify(record.type)}`);
      const name = requiredString(record, "experiment", bad);
      if (experiment === undefined) experiment = { name, line: at };
      else if (name !== experiment.name)
        bad(
          "experiment",
          `"${name}" here but "${experiment.name}" on line ${experiment.line}: judge one experiment's log at a time`,
        );
      if (record.type === "outcome") continue;
      const answers = answersOf(record, options.controlVariant, bad, skipped);
      if (answers.length === 0) continue;
      const requestId = requiredString(record, "requestId", bad);
      const t = requiredString(record, "t", bad);
      if (!Number.isFinite(Date.parse(t))) bad("t", `expected an ISO 8601 time, got ${JSON.stringify(t)}`);
      const source = record.type as LiveRecord["source"];
      withText[source]++;
      const share = sampleShare(requestId);
      if (share >= options.sample) continue;
      sampled.push({
        line: at,
        source,
        requestId,
        t,
        experiment: name,
        unit: record.unit as string,
        ...(source === "exposure" ? { assigned: record.assigned as string } : {}),
        ...(chatMessages(record.messages) === undefined ? {} : { messages: chatMessages(record.messages) }),
        answers,
        share,
      });
    }
  } catch (error) {
    if (error instanceof LiveLogError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === "ENOENT" ? "file not found" : `cannot read it (${code ?? String(error)})`;
    throw new LiveLogError(file, 0, undefined, problem, { cause: error });
  } finally {
    lines.close();
  }
  const kept = [...sampled]
    .sort((a, b) => a.share - b.share || a.line - b.line)
    .slice(0, options.max ?? sampled.length)
    .sort((a, b) => a.line - b.line);
  return {
    file,
    ...(experiment === undefined ? {} : { experiment }),
    read,
    withText,
    sampled: sampled.length,
    records: kept,
    skipped,
  };
}
