/**
 * One demo run, start to verdict:
 *
 * 1. read the scenario and its spec; start the local stack (stack.ts) in a temporary directory;
 * 2. send the scenario's traffic through the router for the run's duration, applying the
 *    scenario's changes on time (latency and error shifts, scale-ups), while watching the router's
 *    state and log for guardrail events and Prometheus for firing alerts (progress);
 * 3. let running conversations finish, wait for a last scrape and evaluation, read the charts
 *    back from Prometheus, stop the stack (the router flushes its event log);
 * 4. analyse the event log as `llm-ab analyze` would, decide the verdict, write the report.
 *
 * Whatever happens (an error, an abort from Ctrl-C), every process is stopped and the temporary
 * directory removed before `runDemo` returns or throws. Only the output directory remains.
 */
import { appendFileSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type AnalysisReport, runAnalysis } from "../analysis/analyze.ts";
import { controlVariant, treatmentVariants } from "../analysis/variants.ts";
import { alertmanagerTimings, durationMs, timing } from "../monitoring/config.ts";
import type { StateRecord } from "../router/store/types.ts";
import { SpecError } from "../spec/errors.ts";
import { durationSeconds } from "../spec/primitives.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import { GuardrailEvents, runLogger } from "./guardrail-events.ts";
import { renderReportHtml } from "./report/html.ts";
import type { ProgressSnapshot } from "./report/progress.ts";
import { readCharts } from "./run-charts.ts";
import type { DemoResult, ScenarioMarker } from "./run-result.ts";
import { type LoadedScenario, loadScenario } from "./scenario.ts";
import { type DeploymentChange, secondsInto } from "./scenario-schema.ts";
import type { SimulatorEffects } from "./simulator/engine.ts";
import { type LocalStack, startStack } from "./stack.ts";
import { releaseDir, tempDir } from "./supervisor/server-process.ts";
import { runTraffic } from "./traffic/generator.ts";
import { finalVerdict } from "./verdict.ts";

export interface DemoOptions {
  /** Scenario file. */
  readonly scenarioPath: string;
  /** Length of the traffic, seconds. Default: the scenario's `duration`. */
  readonly durationSeconds?: number;
  /** New conversations per second. Default: the scenario's. */
  readonly conversationsPerSecond?: number;
  /** Where the report and the event log are written (created if missing). */
  readonly outDir: string;
  /** Aborting stops the run at once; `runDemo` then rejects with {@link DemoInterrupted}. */
  readonly signal?: AbortSignal;
  /** Called about once a second while the run lasts. */
  readonly onProgress?: (snapshot: ProgressSnapshot) => void;
  /** Setup and teardown steps, one line each. */
  readonly log?: (line: string) => void;
  /** Parent of the temporary run directory. Default: the OS temp directory. */
  readonly tempParent?: string;
}

/** The run was interrupted (Ctrl-C); everything was stopped and removed. */
export class DemoInterrupted extends Error {
  constructor() {
    super("the demo was interrupted: every process was stopped and its temporary files removed");
    this.name = "DemoInterrupted";
  }
}

/** Longest a conversation running at the end may take to finish its turns. */
const DRAIN_MS = 15_000;

/** The scenario's changes as report markers, in time order. */
export function scenarioMarkers(loaded: LoadedScenario, seconds: number): ScenarioMarker[] {
  const markers: ScenarioMarker[] = [];
  for (const [deployment, behaviour] of Object.entries(loaded.scenario.deployments)) {
    for (const change of behaviour.changes) {
      markers.push({
        t: secondsInto(change.at, seconds),
        label: change.note ?? describeChange(deployment, change),
      });
    }
  }
  // Changes at the same moment (both deployments scale up) share one marker, or labels overprint.
  const byTime = new Map<number, string[]>();
  for (const marker of markers) byTime.set(marker.t, [...(byTime.get(marker.t) ?? []), marker.label]);
  return [...byTime].map(([t, labels]) => ({ t, label: labels.join("; ") })).sort((a, b) => a.t - b.t);
}

function describeChange(deployment: string, change: DeploymentChange): string {
  const parts: string[] = [];
  if (change.ttftFactor !== undefined) parts.push(`TTFT ×${change.ttftFactor}`);
  if (change.itlFactor !== undefined) parts.push(`ITL ×${change.itlFactor}`);
  if (change.errorRate !== undefined)
    parts.push(`${Number((change.errorRate * 100).toPrecision(3))} % errors`);
  if (change.addReplicas !== undefined) parts.push(`+${change.addReplicas} replica`);
  return `${deployment}: ${parts.join(", ")}`;
}

/** Applies one change to the running stack; `effectsByDeployment` keeps the effects in force. */
async function applyChange(
  stack: LocalStack,
  deployment: string,
  change: DeploymentChange,
  effectsByDeployment: Map<string, SimulatorEffects>,
): Promise<void> {
  const effects = {
    ...(change.ttftFactor === undefined ? {} : { ttftFactor: change.ttftFactor }),
    ...(change.itlFactor === undefined ? {} : { itlFactor: change.itlFactor }),
    ...(change.errorRate === undefined ? {} : { errorRate: change.errorRate }),
  };
  if (Object.keys(effects).length > 0) {
    // Remembered per deployment: replicas a later scale-up adds start with them too.
    effectsByDeployment.set(deployment, { ...effectsByDeployment.get(deployment), ...effects });
    for (const replica of stack.replicas(deployment)) replica.setEffects(effects);
  }
  if (change.addReplicas !== undefined) {
    const before = stack.replicas(deployment).length;
    await stack.addReplicas(deployment, change.addReplicas, change.coldStart);
    const current = effectsByDeployment.get(deployment);
    if (current !== undefined)
      for (const replica of stack.replicas(deployment).slice(before)) replica.setEffects(current);
  }
}

function ttftLimit(spec: ExperimentSpec): DemoResult["ttftLimit"] {
  const guardrail = spec.metrics.guardrails.find((g) => g.name === "ttft_p95_seconds");
  if (guardrail === undefined) return undefined;
  return {
    ...(guardrail.max === undefined ? {} : { max: guardrail.max }),
    ...(guardrail.relativeMax === undefined ? {} : { relativeMax: guardrail.relativeMax }),
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      done();
    });
  });
}

/** Firing alerts of the experiment now, by name (empty when Prometheus cannot answer). */
async function firingAlerts(stack: LocalStack, experiment: string): Promise<string[]> {
  const answer = await stack.prometheus
    .query(`ALERTS{alertstate="firing", experiment="${experiment}"}`)
    .catch(() => undefined);
  if (answer === undefined || !answer.ok) return [];
  return [...new Set(answer.series.map((s) => s.metric.alertname ?? "?"))].sort();
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const log = options.log ?? (() => {});
  const signal = options.signal;
  const loaded = await loadScenario(options.scenarioPath);
  const { scenario, spec } = loaded;
  const seconds = options.durationSeconds ?? durationSeconds(scenario.duration);
  const control = controlVariant(spec);
  const treatment = treatmentVariants(spec)[0] ?? "treatment";
  for (const [deployment, behaviour] of Object.entries(scenario.deployments)) {
    for (const change of behaviour.changes) {
      if (secondsInto(change.at, seconds) >= seconds) {
        throw new SpecError(
          [
            {
              path: `deployments.${deployment}.changes`,
              message: `the change at ${change.at} falls at or after the end of a ${seconds} s run: lengthen --duration or use a share such as "40%"`,
            },
          ],
          options.scenarioPath,
        );
      }
    }
  }
  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const runDir = tempDir("llm-ab-demo-", options.tempParent ?? tmpdir());
  const events = new GuardrailEvents(Date.now(), treatment);
  // The router's log goes beside the report: it is the record of every webhook decision and reload.
  const routerLog = join(outDir, "router.log");
  writeFileSync(routerLog, "");
  const logger = runLogger(
    (line) => appendFileSync(routerLog, line),
    (entry) => events.observeLog(entry),
  );
  let stack: LocalStack | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    if (signal?.aborted) throw new DemoInterrupted();
    log(`scenario ${scenario.name}: ${scenario.title}`);
    stack = await startStack(loaded, { runDir, logger, log });
    if (signal?.aborted) throw new DemoInterrupted();
    const running = stack;

    const perSecond = options.conversationsPerSecond ?? scenario.traffic.conversationsPerSecond;
    log(`sending traffic: ${perSecond} new conversations/s for ${seconds} s`);
    // Traffic starts now; every time in the run counts from here.
    const startMs = Date.now();
    events.setStart(startMs);
    const changeErrors: string[] = [];
    const effectsByDeployment = new Map<string, SimulatorEffects>();
    for (const [deployment, behaviour] of Object.entries(scenario.deployments)) {
      for (const change of behaviour.changes) {
        timers.push(
          setTimeout(() => {
            applyChange(running, deployment, change, effectsByDeployment).catch((error: Error) =>
              changeErrors.push(`${deployment} at ${change.at}: ${error.message}`),
            );
          }, secondsInto(change.at, seconds) * 1000),
        );
      }
    }

    let state: StateRecord = running.router.context.state.current();
    let firing: string[] = [];
    let traffic = {
      requests: 0,
      requestsByVariant: {} as Readonly<Record<string, number>>,
      failedRequests: 0,
    };
    let phase: ProgressSnapshot["phase"] = "traffic";
    const progress = () =>
      options.onProgress?.({
        elapsedSeconds: (Date.now() - startMs) / 1000,
        durationSeconds: seconds,
        phase,
        requests: traffic.requests,
        requestsByVariant: traffic.requestsByVariant,
        failedRequests: traffic.failedRequests,
        routerState: state.state,
        firingAlerts: firing,
      });
    const watch = setInterval(() => {
      state = running.router.context.state.current();
      events.observeState(state);
    }, 100);
    const alertWatch = setInterval(() => {
      void firingAlerts(running, spec.name).then((names) => {
        firing = names;
      });
    }, 1000);
    timers.push(watch, alertWatch);

    const rate = options.conversationsPerSecond;
    const summary = await runTraffic({
      targets: [{ url: running.router.proxyUrl, share: 1 }],
      spec,
      traffic: rate === undefined ? scenario.traffic : { ...scenario.traffic, conversationsPerSecond: rate },
      outcomes: scenario.outcomes,
      seed: scenario.seed,
      durationMs: seconds * 1000,
      drainMs: DRAIN_MS,
      ...(signal === undefined ? {} : { signal }),
      onProgress: (snapshot) => {
        traffic = snapshot;
        if (snapshot.elapsedMs > seconds * 1000) phase = "draining";
        progress();
      },
    });
    if (signal?.aborted) throw new DemoInterrupted();
    const endMs = Date.now();

    // One more scrape and evaluation, and Alertmanager's group wait, so the end is in the data.
    phase = "analyzing";
    progress();
    const local = timing(spec, "local");
    await sleep(durationMs(local.interval) + durationMs(alertmanagerTimings.local.groupWait) + 500, signal);
    if (signal?.aborted) throw new DemoInterrupted();
    state = running.router.context.state.current();
    events.observeState(state);
    const charts = await readCharts(running.prometheus, spec, startMs / 1000, endMs / 1000);
    for (const timer of timers) clearInterval(timer);
    await running.stop();
    stack = undefined;
    if (signal?.aborted) throw new DemoInterrupted();

    const eventsPath = join(outDir, "events.jsonl");
    copyFileSync(join(runDir, "events.jsonl"), eventsPath);
    let analysis: AnalysisReport | undefined;
    let analysisError: string | undefined;
    try {
      analysis = await runAnalysis(spec, eventsPath);
    } catch (error) {
      analysisError = error instanceof Error ? error.message : String(error);
    }
    const allEvents = events.events();
    const decided = finalVerdict(state, allEvents, analysis, analysisError);
    const reportPath = join(outDir, "report.html");
    const result: DemoResult = {
      scenario: { name: scenario.name, title: scenario.title, story: scenario.story },
      experiment: spec.name,
      control,
      treatment,
      startedAt: new Date(startMs).toISOString(),
      durationSeconds: seconds,
      verdict: decided.verdict,
      reasons: [...decided.reasons, ...changeErrors.map((e) => `a scenario change failed: ${e}`)],
      routerState: state.state,
      events: allEvents,
      markers: scenarioMarkers(loaded, seconds),
      charts,
      traffic: {
        conversations: summary.conversations,
        requests: summary.requests,
        requestsByVariant: summary.requestsByVariant,
        failedRequests: summary.failedRequests,
        outcomesSent: summary.outcomesSent,
        outcomesRefused: summary.outcomesRefused,
      },
      ...(analysis === undefined ? {} : { analysis }),
      ...(ttftLimit(spec) === undefined ? {} : { ttftLimit: ttftLimit(spec) }),
      files: { report: reportPath, events: eventsPath, routerLog },
    };
    writeFileSync(reportPath, renderReportHtml(result));
    writeFileSync(join(outDir, "result.json"), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } catch (error) {
    // Ctrl-C in a terminal reaches the servers too (one process group): whatever failed after the
    // abort failed because of it.
    throw signal?.aborted ? new DemoInterrupted() : error;
  } finally {
    for (const timer of timers) clearTimeout(timer);
    if (stack !== undefined) {
      log("stopping the local stack");
      await stack.stop();
    }
    logger.flush?.();
    releaseDir(runDir);
  }
}
