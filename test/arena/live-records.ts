/** Router log records for the online-judging tests (arena/live.ts and its CLI). */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ExposureRecord, OutcomeRecord, ShadowRecord } from "../../router/records.ts";

const T0 = Date.parse("2026-03-01T00:00:00.000Z");
/** ISO time `s` seconds after 2026-03-01T00:00Z. */
export const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

/** A mirrored request of experiment "duel": treatment cites the policy, control does not (unless `fields` say). */
export function shadowRecord(requestId: string, s: number, fields: Partial<ShadowRecord> = {}): ShadowRecord {
  return {
    type: "shadow",
    t: iso(s),
    experiment: "duel",
    unit: `u-${requestId}`,
    requestId,
    variant: "treatment",
    deployment: "chat",
    status: 200,
    text: "Under our Returns Policy §2 you can return it.",
    controlText: "You can return it.",
    ...fields,
  };
}

/** A served turn of experiment "duel", served by its assignment (default control). */
export function exposureRecord(
  unit: string,
  s: number,
  fields: Partial<ExposureRecord> = {},
): ExposureRecord {
  const assigned = fields.assigned ?? "control";
  return {
    type: "exposure",
    t: iso(s),
    experiment: "duel",
    unit,
    unitSource: "header:x-llm-ab-unit",
    variant: assigned,
    assigned,
    state: "active",
    allocation: 50,
    firstAssignedAt: iso(0),
    bucket: 1,
    requestId: `${unit}-${s}`,
    route: "chat",
    deployment: "chat",
    status: 200,
    stream: false,
    ...fields,
  };
}

export function outcomeRecord(
  unit: string,
  s: number,
  metric: string,
  value: number,
  variant = "control",
): OutcomeRecord {
  return { type: "outcome", t: iso(s), experiment: "duel", unit, variant, metric, value };
}

/** Writes `records` as JSONL to `dir/name`; returns the path. */
export function writeLog(dir: string, name: string, records: readonly unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${records.map((record) => JSON.stringify(record)).join("\n")}\n`);
  return path;
}
