import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { aggregateData, DataError } from "../../analysis/aggregate.ts";
import { runAnalysis } from "../../analysis/analyze.ts";
import { isEventLog } from "../../analysis/event-log.ts";
import { buildRequest, metricDefs } from "../../analysis/metric-tests.ts";
import {
  type ExposureRecord,
  type OutcomeRecord,
  RecordLog,
  type RouterRecord,
  type ShadowRecord,
} from "../../router/records.ts";
import { duelSpec, seededUniform, tempDir, writeJsonl } from "../helpers/unit-data.ts";

const dir = tempDir("llm-ab-event-log-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Outcome metrics, a ratio of outcomes, and router-measured fields, with guardrails on the latter. */
const spec = duelSpec({
  metrics: {
    primary: [{ name: "resolution_rate", kind: "binary", baseline: 0.6, mde: 0.05 }],
    secondary: [
      { name: "response_tokens", kind: "continuous" },
      { name: "thumbs_up_rate", kind: "ratio", numerator: "thumbs_up", denominator: "rated" },
      { name: "cost_usd", kind: "continuous", direction: "decrease" },
      { name: "ttft_seconds", kind: "continuous", direction: "decrease" },
      { name: "output_tokens", kind: "continuous", direction: "decrease" },
      { name: "e2e_seconds", kind: "continuous", direction: "decrease" },
      {
        name: "turn_error_rate",
        kind: "ratio",
        numerator: "errors",
        denominator: "turns",
        direction: "decrease",
      },
    ],
    guardrails: [
      { name: "ttft_seconds", relativeMax: 0.1, action: "pause" },
      { name: "turn_error_rate", relativeMax: 0.5, action: "rollback" },
    ],
  },
});
const request = buildRequest(spec, metricDefs(spec), ["control", "treatment"]);

const T0 = Date.parse("2026-03-01T00:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

function exposure(unit: string, ms: number, fields: Partial<ExposureRecord> = {}): ExposureRecord {
  return {
    type: "exposure",
    t: iso(ms),
    experiment: "duel",
    unit,
    unitSource: "header:x-llm-ab-unit",
    variant: "control",
    assigned: "control",
    state: "active",
    allocation: 50,
    firstAssignedAt: iso(T0),
    bucket: 1234,
    requestId: `${unit}-${ms}`,
    route: "chat",
    deployment: "chat",
    status: 200,
    stream: true,
    ...fields,
  };
}

function outcome(
  unit: string,
  ms: number,
  metric: string,
  value: number,
  variant = "control",
): OutcomeRecord {
  return { type: "outcome", t: iso(ms), experiment: "duel", unit, variant, metric, value };
}

function shadow(unit: string, ms: number): ShadowRecord {
  return {
    type: "shadow",
    t: iso(ms),
    experiment: "duel",
    unit,
    requestId: `shadow-${ms}`,
    variant: "treatment",
    deployment: "chat",
    status: 200,
    text: "mirrored answer",
  };
}

type UnitMetrics = Record<string, number>;
interface ExpectedUnit {
  unit: string;
  variant: string;
  allocation: number;
  metrics: UnitMetrics;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * A seeded event log over a 10 % → 50 % ramp, shuffled (replicas interleave their records), with
 * paused turns, failed turns, repeated and stale outcomes, never-exposed units and shadow records;
 * plus the unit-level records the event-log rules must reduce it to, computed independently here.
 */
function simulate(seed: number): { records: RouterRecord[]; units: ExpectedUnit[] } {
  const u = seededUniform(seed);
  const records: RouterRecord[] = [];
  const units: ExpectedUnit[] = [];
  const phases = [
    { allocation: 10, units: 500 },
    { allocation: 50, units: 1500 },
  ];
  let k = 0;
  for (const phase of phases) {
    for (let i = 0; i < phase.units; i++, k++) {
      const unit = `conv-${k}`;
      const start = T0 + k * 10_000;
      const assigned = u() < phase.allocation / 100 ? "treatment" : "control";
      const turns = 1 + Math.floor(4 * u());
      const m = { ttft: [] as number[], e2e: [] as number[], tokens: [] as number[], cost: [] as number[] };
      let errors = 0;
      for (let j = 0; j < turns; j++) {
        // A paused experiment serves control to treatment units; they stay in treatment (intent to treat).
        const paused = assigned === "treatment" && u() < 0.2;
        const served = paused ? "control" : assigned;
        const r = u();
        const status = r < 0.03 ? 503 : r < 0.05 ? 0 : 200;
        if (status !== 200) errors++;
        const ttft = 0.2 + (served === "treatment" ? 0.03 : 0) + 0.1 * u();
        const e2e = ttft + 1 + u();
        const outputTokens = Math.round(50 + 100 * u());
        const costUsd = status === 200 ? outputTokens * 6e-7 : undefined;
        m.ttft.push(ttft);
        m.e2e.push(e2e);
        m.tokens.push(outputTokens);
        if (costUsd !== undefined) m.cost.push(costUsd);
        records.push(
          exposure(unit, start + 100 * j, {
            variant: served,
            assigned,
            state: paused ? "paused" : "active",
            allocation: phase.allocation,
            firstAssignedAt: iso(start),
            status,
            ttftSeconds: ttft,
            e2eSeconds: e2e,
            outputTokens,
            ...(costUsd === undefined ? {} : { costUsd }),
          }),
        );
      }
      const metrics: UnitMetrics = {
        turns,
        errors,
        ttft_seconds: mean(m.ttft),
        e2e_seconds: mean(m.e2e),
        output_tokens: sum(m.tokens),
      };
      if (m.cost.length > 0) metrics.cost_usd = sum(m.cost);
      if (u() < 0.9) {
        const resolved = u() < (assigned === "treatment" ? 0.68 : 0.6) ? 1 : 0;
        // An earlier, superseded verdict: the last one by time counts, wherever it lands in the file.
        if (u() < 0.3) records.push(outcome(unit, start + 2000, "resolution_rate", 1 - resolved, assigned));
        records.push(outcome(unit, start + 3000, "resolution_rate", resolved, assigned));
        metrics.resolution_rate = resolved;
        const tokens = Array.from(
          { length: turns },
          () => 200 + (assigned === "treatment" ? 5 : 0) + 40 * u(),
        );
        for (const [j, v] of tokens.entries())
          records.push(outcome(unit, start + 100 * j + 50, "response_tokens", v, assigned));
        metrics.response_tokens = mean(tokens);
        const ratings = Array.from({ length: turns }, () => u()).filter((x) => x < 0.6);
        ratings.forEach((x, j) => {
          records.push(outcome(unit, start + 100 * j + 60, "rated", 1, assigned));
          records.push(outcome(unit, start + 100 * j + 60, "thumbs_up", x < 0.4 ? 1 : 0, assigned));
        });
        if (ratings.length > 0) {
          metrics.rated = ratings.length;
          metrics.thumbs_up = ratings.filter((x) => x < 0.4).length;
        }
      }
      units.push({ unit, variant: assigned, allocation: phase.allocation, metrics });
    }
  }
  for (let g = 0; g < 20; g++) records.push(outcome(`ghost-${g}`, T0 + g, "resolution_rate", 1));
  for (let s = 0; s < 50; s++) records.push(shadow(`conv-${s}`, T0 + s * 10_000 + 5));
  for (let i = records.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [records[i], records[j]] = [records[j]!, records[i]!];
  }
  return { records, units };
}

/** Deep equality with numbers equal to 1e-9 relative: DuckDB and JS sum in different orders. */
function expectClose(actual: unknown, expected: unknown, path = "report"): void {
  if (typeof expected === "number" && typeof actual === "number") {
    if (Number.isNaN(expected)) expect(actual, path).toBeNaN();
    else if (!Number.isFinite(expected)) expect(actual, path).toBe(expected);
    else
      expect(Math.abs(actual - expected), path).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true);
    expect((actual as unknown[]).length, path).toBe(expected.length);
    for (const [i, e] of expected.entries()) expectClose((actual as unknown[])[i], e, `${path}[${i}]`);
  } else if (typeof expected === "object" && expected !== null) {
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [key, e] of Object.entries(expected))
      expectClose((actual as Record<string, unknown>)[key], e, `${path}.${key}`);
  } else {
    expect(actual, path).toEqual(expected);
  }
}

describe("the router's event log as analysis data", () => {
  it("gives the same analysis as the unit-level records it stands for", async () => {
    const { records, units } = simulate(11);
    const events = join(dir, "events.jsonl");
    writeFileSync(events, `\n${records.map((r) => JSON.stringify(r)).join("\n")}\n`);
    const unitLevel = writeJsonl(dir, "units.jsonl", units);

    const fromEvents = await runAnalysis(spec, events);
    const fromUnits = await runAnalysis(spec, unitLevel);

    expect(fromEvents.data).toEqual({ file: events, rows: units.length });
    expect(fromEvents.srmPhases.map((p) => p.label)).toEqual(["10 %", "50 %"]);
    expect(fromEvents.metrics.every((m) => m.role === "guardrail" || m.pValue !== null)).toBe(true);
    const { data: _e, ...eventReport } = fromEvents;
    const { data: _u, ...unitReport } = fromUnits;
    expectClose(eventReport, unitReport);
  });

  it("reads sampled exposures that keep messages and answer text (router.answerSamplePercent) like the others", async () => {
    const { records } = simulate(11);
    const plain = join(dir, "plain.jsonl");
    const sampled = join(dir, "sampled.jsonl");
    writeFileSync(plain, `${records.map((r) => JSON.stringify(r)).join("\n")}\n`);
    const withText = records.map((r, i) =>
      r.type === "exposure" && i % 3 === 0
        ? {
            ...r,
            messages: [{ role: "user", content: 'a "quoted", multi\nline question' }],
            text: "an, answer",
          }
        : r,
    );
    writeFileSync(sampled, `${withText.map((r) => JSON.stringify(r)).join("\n")}\n`);
    const { data: _p, ...fromPlain } = await runAnalysis(spec, plain);
    const { data: _s, ...fromSampled } = await runAnalysis(spec, sampled);
    // DuckDB sums in parallel, in no fixed order: equal up to rounding, as the sibling test compares.
    expectClose(fromSampled, fromPlain);
  });

  it("applies the reduction rules to a log small enough to check by hand", async () => {
    const t = (s: number) => T0 + s * 1000;
    const treated = { assigned: "treatment", allocation: 10 } as const;
    const records: RouterRecord[] = [
      // u1: treatment, first turn served control while paused, second a 503.
      exposure("u1", t(1), {
        ...treated,
        state: "paused",
        ttftSeconds: 0.3,
        outputTokens: 10,
        costUsd: 0.001,
      }),
      outcome("u1", t(5), "resolution_rate", 1),
      outcome("u1", t(4), "resolution_rate", 0),
      exposure("u1", t(3), {
        ...treated,
        variant: "treatment",
        status: 503,
        ttftSeconds: 0.5,
        outputTokens: 30,
      }),
      outcome("u1", t(2), "response_tokens", 100),
      outcome("u1", t(3), "response_tokens", 200),
      outcome("u1", t(2), "rated", 1),
      outcome("u1", t(2), "thumbs_up", 1),
      outcome("u1", t(3), "rated", 1),
      outcome("u1", t(3), "thumbs_up", 0),
      shadow("u1", t(1)),
      // u2: control, the client went away (status 0).
      exposure("u2", t(2), { allocation: 10, status: 0 }),
      outcome("u2", t(6), "resolution_rate", 0),
      // u3: its assignment later reads control (a lost store entry); the first exposure decides.
      exposure("u3", t(8), { assigned: "control", allocation: 50 }),
      exposure("u3", t(7), { assigned: "treatment", variant: "treatment", allocation: 50, costUsd: 0.002 }),
      // Never exposed: not a unit of the experiment.
      outcome("ghost", t(9), "resolution_rate", 1),
    ];
    // Written the way the router writes it.
    const path = join(dir, "by-hand.jsonl");
    const log = new RecordLog({ path });
    for (const r of records) log.write(r);
    await log.close();
    const data = await aggregateData(path, "jsonl", request);
    expect(data.rows).toBe(3);
    expect(data.segments).toEqual({});
    const treatment = data.arms.treatment!;
    const control = data.arms.control!;
    expect([treatment.units, control.units]).toEqual([2, 1]);
    const field = (arm: typeof treatment, name: string) => {
      const f = arm.fields[`metrics.${name}`]!;
      return [f.n, f.mean];
    };
    expect(field(treatment, "resolution_rate")).toEqual([1, 1]);
    expect(field(control, "resolution_rate")).toEqual([1, 0]);
    expect(field(treatment, "response_tokens")).toEqual([1, 150]);
    expect(field(treatment, "turns")).toEqual([2, 2]);
    expect(field(treatment, "errors")).toEqual([2, 0.5]);
    expect(field(control, "errors")).toEqual([1, 1]);
    expect(field(treatment, "output_tokens")).toEqual([1, 40]);
    expect(field(treatment, "cost_usd")).toEqual([2, 0.0015]);
    expect(field(treatment, "ttft_seconds")).toEqual([1, 0.4]);
    const thumbs = treatment.pairs["metrics.thumbs_up|metrics.rated"]!;
    expect([thumbs.n, thumbs.meanA, thumbs.meanB]).toEqual([1, 1, 2]);
    expect(
      data.phases.map((p) => [p.percent, p.arms.treatment?.units ?? 0, p.arms.control?.units ?? 0]),
    ).toEqual([
      [10, 1, 1],
      [50, 1, 0],
    ]);
  });

  it("falls back to the unadjusted test for a CUPED metric, saying so, because the log has no pre-period", async () => {
    const records = Array.from({ length: 20 }, (_, i) => [
      exposure(`u${i}`, T0 + i, { assigned: i % 2 ? "treatment" : "control" }),
      outcome(`u${i}`, T0 + i + 1, "response_tokens", 100 + i),
    ]).flat();
    const report = await runAnalysis(duelSpec(), writeJsonl(dir, "cuped.jsonl", records));
    const tokens = report.metrics.find((m) => m.name === "response_tokens" && m.role === "secondary")!;
    expect(tokens.method).toBe("Welch t-test (no pre-period data for CUPED)");
    expect(tokens.pValue).toBeGreaterThan(0);
    expect(tokens.varianceReduction).toBeUndefined();
    expect(tokens.treatment.n).toBe(10);
  });

  it("is recognised from its first record, and forced with the events format whatever the extension", async () => {
    const records = [exposure("u1", T0), exposure("u2", T0, { assigned: "treatment" })];
    expect(await isEventLog(writeJsonl(dir, "sniff.jsonl", records))).toBe(true);
    expect(await isEventLog(writeJsonl(dir, "units-sniff.jsonl", [{ unit: "u1", variant: "control" }]))).toBe(
      false,
    );
    const odd = writeJsonl(dir, "events.log", records);
    const data = await aggregateData(odd, "events", request);
    expect([data.arms.control?.units, data.arms.treatment?.units]).toEqual([1, 1]);
  });
});

describe("event-log data errors", () => {
  const valid = (): Record<string, unknown>[] => [
    { ...exposure("u1", T0) },
    { ...outcome("u1", T0 + 1, "resolution_rate", 1) },
    { ...exposure("u2", T0 + 2, { assigned: "treatment" }) },
    { ...outcome("u2", T0 + 3, "response_tokens", 120) },
  ];
  // Each case breaks one record; the error must name the file, that record's line and the field.
  it.each([
    ["an unknown assigned variant", 2, { assigned: "blue" }, /:3: assigned: unknown assigned variant "blue"/],
    ["a missing unit", 0, { unit: "" }, /:1: unit: missing or empty unit id/],
    ["an allocation out of range", 0, { allocation: 140 }, /:1: allocation: must be the treatment percent/],
    ["an exposure without allocation", 2, { allocation: undefined }, /:3: allocation: must be the treatment/],
    ["a binary outcome that is not 0 or 1", 1, { value: 2 }, /:2: value: binary metric must be 0 or 1/],
    ["a value that is not a number", 3, { value: "lots" }, /:4: value: not a finite number: "lots"/],
    ["an outcome without a value", 3, { value: undefined }, /:4: value: not a finite number/],
    [
      "an outcome named like a router field",
      3,
      { metric: "turns" },
      /:4: metric: "turns" is measured by the router/,
    ],
    ["an unknown record type", 3, { type: "click" }, /:4: type: expected exposure, outcome, shadow/],
    ["a time that is not ISO 8601", 1, { t: "yesterday" }, /:2: t: expected an ISO 8601 time/],
    ["a second experiment", 3, { experiment: "other" }, /:4: experiment: "other" here but "duel" on line 1/],
  ])("names %s", async (_, index, change, message) => {
    const records = valid();
    Object.assign(records[index]!, change);
    const path = writeJsonl(dir, `broken-${index}-${Object.keys(change)[0]}.jsonl`, records);
    const error = await aggregateData(path, "jsonl", request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toMatch(message);
    expect((error as DataError).message.startsWith(path)).toBe(true);
  });

  it("names a line that is not JSON", async () => {
    const path = join(dir, "not-json.jsonl");
    writeFileSync(path, `${JSON.stringify(exposure("u1", T0))}\n{"type": "outcome",\n`);
    await expect(aggregateData(path, "jsonl", request)).rejects.toThrow(/not-json\.jsonl:2: not valid JSON/);
  });
});
