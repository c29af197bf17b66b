/**
 * `POST /v1/outcomes`: what the application reports after a turn or a conversation (resolved or
 * not, a rating, a purchase amount). The body is `{ unit?, metric, value, requestId? }`:
 *
 * - `metric` must be an outcome the spec declares: a primary or secondary metric's name, or the
 *   numerator or denominator field of a ratio metric. Anything else is refused with the list of
 *   known names, because an outcome nobody analyses is almost always a typo.
 * - `value` is a finite number; binary metrics take 0 or 1.
 * - `unit` is the unit id as the application knows it; absent, the unit is read from the request
 *   the same way as for chat requests (the spec's unit sources, e.g. the `x-llm-ab-unit` header).
 *   Ids are normalised like request unit ids (trimmed; over 256 characters, a SHA-256 digest).
 * - `requestId` ties the outcome to one turn (the `x-llm-ab-request-id` the router returned).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { METRIC_NAME } from "../spec/primitives.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import { HttpError } from "./http-errors.ts";
import { MAX_UNIT_ID_LENGTH } from "./unit-id.ts";

/** Kinds of value an outcome field holds: 0/1 for binary metrics, any finite number otherwise. */
export type OutcomeKind = "binary" | "number";

/** The outcome fields a spec declares, by name. */
export type OutcomeFields = ReadonlyMap<string, OutcomeKind>;

/** The outcome fields of a spec: primary and secondary metrics, and ratio metrics' two fields. */
export function outcomeFields(spec: Pick<ExperimentSpec, "metrics">): OutcomeFields {
  const fields = new Map<string, OutcomeKind>();
  for (const metric of [...spec.metrics.primary, ...spec.metrics.secondary]) {
    if (metric.kind === "ratio") {
      if (metric.numerator !== undefined) fields.set(metric.numerator, "number");
      if (metric.denominator !== undefined) fields.set(metric.denominator, "number");
    } else {
      fields.set(metric.name, metric.kind === "binary" ? "binary" : "number");
    }
  }
  return fields;
}

const outcomeBodySchema = z.strictObject({
  unit: z.union([z.string(), z.number()], { error: "must be a string (the unit id)" }).optional(),
  metric: z
    .string({ error: "is required: the name of an outcome metric of the spec" })
    .regex(METRIC_NAME, { error: "must be a lowercase snake_case metric name" }),
  value: z.number({
    error: (issue) =>
      issue.input === undefined ? "is required: a finite number" : "must be a finite number",
  }),
  requestId: z.string().min(1).max(200, { error: "must be at most 200 characters" }).optional(),
});

/** A valid outcome report. */
export interface OutcomeReport {
  /** The unit id from the body, normalised; undefined when the body has none. */
  readonly unit: string | undefined;
  readonly metric: string;
  readonly value: number;
  readonly requestId: string | undefined;
}

/** A unit id as the router keys it: trimmed, non-empty, long ids replaced by their SHA-256 digest. */
export function normalizeUnitId(raw: string | number): string | undefined {
  const text = typeof raw === "number" ? (Number.isFinite(raw) ? String(raw) : "") : raw.trim();
  if (text.length === 0) return undefined;
  if (text.length <= MAX_UNIT_ID_LENGTH) return text;
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

function quoted(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * Validates an outcome body against the spec's outcome fields. Throws a 400 HttpError listing every
 * problem (`field: what is wrong`), and naming the known metrics when the metric is unknown.
 */
export function parseOutcome(body: unknown, fields: OutcomeFields): OutcomeReport {
  const parsed = outcomeBodySchema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      if (issue.code === "unrecognized_keys") {
        return `unknown field${issue.keys.length === 1 ? "" : "s"} ${issue.keys.map(quoted).join(", ")} (an outcome has unit, metric, value, requestId)`;
      }
      return `${issue.path.join(".") || "body"}: ${issue.message}`;
    });
    throw new HttpError(400, "invalid_outcome", `invalid outcome: ${problems.join("; ")}`);
  }
  const { metric, value, requestId } = parsed.data;
  const kind = fields.get(metric);
  if (kind === undefined) {
    const known = [...fields.keys()].join(", ") || "none";
    throw new HttpError(
      400,
      "unknown_metric",
      `invalid outcome: metric ${quoted(metric)} is not an outcome of this experiment (known: ${known}); declare it under metrics.primary or metrics.secondary`,
    );
  }
  if (kind === "binary" && value !== 0 && value !== 1) {
    throw new HttpError(
      400,
      "invalid_outcome",
      `invalid outcome: ${metric} is a binary metric, so value must be 0 or 1, got ${value}`,
    );
  }
  const unit = parsed.data.unit === undefined ? undefined : normalizeUnitId(parsed.data.unit);
  if (parsed.data.unit !== undefined && unit === undefined) {
    throw new HttpError(400, "invalid_outcome", "invalid outcome: unit: must not be empty");
  }
  return { unit, metric, value, requestId };
}
