/**
 * The label names each router metric really carries, read from the exposition text of a real
 * `RouterMetrics` after one of everything: warm and cold exchanges, an error, an outcome, a state
 * change, a treatment fraction and an assignment. Dashboards and rules must select on these.
 */
import { RouterMetrics } from "../../router/metrics.ts";
import type { RequestTiming } from "../../router/timing.ts";

/** Series name as exposed (histograms as `_bucket` / `_sum` / `_count`) → label names seen on it. */
export async function routerExposedLabels(): Promise<Map<string, Set<string>>> {
  const metrics = new RouterMetrics();
  // The metrics read only the four durations; the rest of a timing describes how it was measured.
  const timing = {
    ttft: 0.2,
    e2e: 1.5,
    itl: [0.02, 0.03],
    tpot: 0.025,
  } as Partial<RequestTiming> as RequestTiming;
  const usage = { promptTokens: 100, completionTokens: 40 };
  for (const replicaState of ["warm", "cold"] as const) {
    metrics.observeExchange(
      { experiment: "e", variant: "control", replicaState },
      { status: 200, timing, usage, costUsd: 0.001 },
    );
  }
  metrics.observeExchange(
    { experiment: "e", variant: "treatment", replicaState: undefined },
    { status: 502 },
  );
  metrics.observeOutcome("e", "control", "csat_score", 4);
  metrics.setExperimentState("e", "active");
  metrics.setTreatmentFractions("e", { treatment: 0.1 });
  metrics.countersFor("e").assignment("control");
  const labels = new Map<string, Set<string>>();
  for (const line of (await metrics.metrics()).split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!match?.[1]) continue;
    const names = [...(match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)].map((m) => m[1] ?? "");
    const seen = labels.get(match[1]) ?? new Set<string>();
    for (const name of names) seen.add(name);
    labels.set(match[1], seen);
  }
  return labels;
}
