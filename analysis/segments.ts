/** Simpson's-paradox check of each primary metric over each segment dimension in the data. */
import { simpsonCheck } from "../stats/simpson.ts";
import { type DataSummary, fieldKey } from "./data-summary.ts";
import type { MetricDef } from "./metric-tests.ts";

export interface SegmentFinding {
  dimension: string;
  metric: string;
  pooledEffect: number;
  adjustedEffect: number;
  reversal: boolean;
  mixShifted: boolean;
  findings: string[];
}

export function simpsonFindings(
  data: DataSummary,
  defs: MetricDef[],
  control: string,
  treatment: string,
): SegmentFinding[] {
  const out: SegmentFinding[] = [];
  const primary = defs.filter((d) => d.role === "primary" && d.kind !== "ratio");
  for (const [dimension, values] of Object.entries(data.segments)) {
    for (const def of primary) {
      const key = fieldKey({ kind: "metric", name: def.name });
      const segments = Object.entries(values).flatMap(([segment, cells]) => {
        const c = cells[control]?.fields[key];
        const t = cells[treatment]?.fields[key];
        // A segment seen in one arm only has no effect to compare; the mix test still sees it through the others.
        if (!c || !t || c.n === 0 || t.n === 0) return [];
        return [{ segment, control: { n: c.n, mean: c.mean }, treatment: { n: t.n, mean: t.mean } }];
      });
      if (segments.length < 2) continue;
      const report = simpsonCheck(dimension, segments);
      out.push({
        dimension,
        metric: def.name,
        pooledEffect: report.pooledEffect,
        adjustedEffect: report.adjustedEffect,
        reversal: report.reversal,
        mixShifted: report.mixShift.shifted,
        findings: report.findings,
      });
    }
  }
  return out;
}
