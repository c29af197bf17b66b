/**
 * The bodies of the interleaving routes (interleave.ts), validated: every problem is listed with
 * its field in one 400 answer, so a caller fixes its request once.
 */
import { HttpError } from "./http-errors.ts";
import { normalizeUnitId } from "./outcomes.ts";

/** Longest queryId accepted: it is an id, not a payload, and every record carries it. */
export const MAX_QUERY_ID_LENGTH = 200;
/** Largest seed mt19937 takes (stats/interleaving.ts seededRandom); the smallest is 1. */
export const MAX_SEED = 0xffffffff;

const INTERLEAVE_FIELDS = ["queryId", "unit", "control", "treatment", "treatmentVariant", "length", "seed"];
const FEEDBACK_FIELDS = ["queryId", "items"];

/** One result as a ranker returned it: its id, and the object to echo back (absent for a bare id). */
export interface RankedItem {
  readonly id: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** A valid `POST /v1/interleave` body. */
export interface InterleaveRequest {
  readonly queryId: string | undefined;
  /** Normalised like request unit ids (outcomes.ts normalizeUnitId). */
  readonly unit: string | undefined;
  readonly control: readonly RankedItem[];
  readonly treatment: readonly RankedItem[];
  readonly treatmentVariant: string | undefined;
  readonly length: number | undefined;
  readonly seed: number | undefined;
}

/** A valid `POST /v1/interleave/feedback` body. */
export interface FeedbackRequest {
  readonly queryId: string;
  readonly items: readonly string[];
}

export const quoted = (value: unknown): string => JSON.stringify(value) ?? String(value);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isWhole = (value: unknown, min: number, max: number): value is number =>
  Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;

const shown = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : `${typeof value} ${quoted(value)}`;

/** `unknown field(s) ...` when `body` has keys outside `known`. */
function unknownFields(body: Record<string, unknown>, known: readonly string[], what: string): string[] {
  const extra = Object.keys(body).filter((key) => !known.includes(key));
  if (extra.length === 0) return [];
  return [
    `unknown field${extra.length === 1 ? "" : "s"} ${extra.map(quoted).join(", ")} (${what} has ${known.join(", ")})`,
  ];
}

function queryIdProblem(value: unknown): string | undefined {
  if (typeof value !== "string" || value.trim() === "")
    return `must be a non-empty string, got ${shown(value)}`;
  if (value.length > MAX_QUERY_ID_LENGTH) return `must be at most ${MAX_QUERY_ID_LENGTH} characters`;
  return undefined;
}

/** A ranker's list, or the problem with it (the first bad element is named, not every one). */
function rankedList(field: string, value: unknown, problems: string[]): RankedItem[] {
  if (value === undefined) {
    problems.push(
      `${field}: is required: the ${field} ranker's results, best first (ids or objects with an id)`,
    );
    return [];
  }
  if (!Array.isArray(value)) {
    problems.push(`${field}: must be an array of ids or objects with an "id", got ${shown(value)}`);
    return [];
  }
  if (value.length === 0) {
    problems.push(`${field}: is empty: interleaving needs at least one result from each ranker`);
    return [];
  }
  const items: RankedItem[] = [];
  for (const [i, entry] of value.entries()) {
    if (typeof entry === "string" && entry !== "") {
      items.push({ id: entry });
      continue;
    }
    let problem: string;
    if (!isObject(entry)) {
      problem = `[${i}]: must be a non-empty id string or an object with an "id", got ${shown(entry)}`;
    } else if (typeof entry.id !== "string" || entry.id === "") {
      problem = `[${i}].id: must be a non-empty string, got ${shown(entry.id)}`;
    } else if ("team" in entry) {
      problem = `[${i}].team: is reserved: the router sets it to the variant whose ranker placed the item (rename this field)`;
    } else {
      items.push({ id: entry.id, fields: entry });
      continue;
    }
    problems.push(`${field}${problem}`);
    return [];
  }
  return items;
}

/**
 * Validates an interleave body. Throws a 400 HttpError (`invalid_interleave`) listing every
 * problem as `field: what is wrong`.
 */
export function parseInterleaveRequest(body: Record<string, unknown>): InterleaveRequest {
  const problems = unknownFields(body, INTERLEAVE_FIELDS, "an interleave request");
  let queryId: string | undefined;
  if (body.queryId !== undefined) {
    const problem = queryIdProblem(body.queryId);
    if (problem === undefined) queryId = body.queryId as string;
    else problems.push(`queryId: ${problem}`);
  }
  let unit: string | undefined;
  if (body.unit !== undefined) {
    if (typeof body.unit === "string" || typeof body.unit === "number") {
      unit = normalizeUnitId(body.unit);
      if (unit === undefined) problems.push("unit: must not be empty");
    } else {
      problems.push(`unit: must be a string (the unit id), got ${shown(body.unit)}`);
    }
  }
  const control = rankedList("control", body.control, problems);
  const treatment = rankedList("treatment", body.treatment, problems);
  const treatmentVariant = body.treatmentVariant;
  if (treatmentVariant !== undefined && (typeof treatmentVariant !== "string" || treatmentVariant === "")) {
    problems.push(
      `treatmentVariant: must be the name of a treatment variant, got ${shown(treatmentVariant)}`,
    );
  }
  const { length, seed } = body;
  if (length !== undefined && !isWhole(length, 1, Number.MAX_SAFE_INTEGER)) {
    problems.push(`length: must be a whole number of results, at least 1, got ${shown(length)}`);
  }
  if (seed !== undefined && !isWhole(seed, 1, MAX_SEED)) {
    problems.push(`seed: must be a whole number from 1 to ${MAX_SEED}, got ${shown(seed)}`);
  }
  if (problems.length > 0) {
    throw new HttpError(400, "invalid_interleave", `invalid interleave request: ${problems.join("; ")}`);
  }
  return {
    queryId,
    unit,
    control,
    treatment,
    treatmentVariant: treatmentVariant as string | undefined,
    length: length as number | undefined,
    seed: seed as number | undefined,
  };
}

/** Validates a feedback body. Throws a 400 HttpError (`invalid_feedback`) listing every problem. */
export function parseFeedbackRequest(body: Record<string, unknown>): FeedbackRequest {
  const problems = unknownFields(body, FEEDBACK_FIELDS, "interleaving feedback");
  const queryIdIssue =
    body.queryId === undefined
      ? "is required: the queryId of the interleaved list"
      : queryIdProblem(body.queryId);
  if (queryIdIssue !== undefined) problems.push(`queryId: ${queryIdIssue}`);
  const items = body.items;
  if (!Array.isArray(items)) {
    problems.push(
      items === undefined
        ? "items: is required: the ids of the items the user clicked or used ([] for none)"
        : `items: must be an array of item ids, got ${shown(items)}`,
    );
  } else {
    const bad = items.findIndex((id) => typeof id !== "string" || id === "");
    if (bad >= 0)
      problems.push(`items[${bad}]: must be a non-empty item id string, got ${shown(items[bad])}`);
  }
  if (problems.length > 0) {
    throw new HttpError(400, "invalid_feedback", `invalid interleaving feedback: ${problems.join("; ")}`);
  }
  return { queryId: body.queryId as string, items: items as string[] };
}
