/**
 * One arena run, from a config file to `gate.json`:
 *
 * 1. read the config, the spec, the golden set, the rubric and the audit labels (every input is
 *    checked before any call is made);
 * 2. generate every case with control and treatment as the spec defines them;
 * 3. Level 1 (the case's and the config's checks), Level 2 (similarity, when embeddings are
 *    configured), Level 3 (a rubric score per answer, a pairwise judgement in both orders per case);
 * 4. decide the gate (gate.ts) and write `gate.json`, `results.json` (every generation and
 *    judgement, for audit) and `report.html` into the output directory.
 *
 * All calls share one concurrency limit and one cache, so a rerun pays only for what changed. A
 * judge answer that cannot be parsed stops the run with its raw text (never a silent tie).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SpecError } from "../spec/errors.ts";
import { loadSpecFile, specHash } from "../spec/load.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import { loadAudit } from "./audit.ts";
import { ResultsCache } from "./cache.ts";
import { limit, type PostOptions } from "./client.ts";
import { type LoadedArenaConfig, loadArenaConfig } from "./config.ts";
import { loadDataset } from "./dataset.ts";
import { decideGate, type GateDecision, type GateInput } from "./gate.ts";
import { GATE_FILE_VERSION, type GateFile } from "./gate-file.ts";
import { type GenerationFailure, generate } from "./generate.ts";
import { Judge } from "./judges.ts";
import { runLevel1 } from "./level1.ts";
import { renderArenaReport } from "./report-html.ts";
import { loadRubric, rubricHash } from "./rubric.ts";
import { similarity } from "./similarity.ts";
import type { GoldenCase, Rubric } from "./types.ts";

/** Progress of a run: the phase and its calls. */
export interface ArenaProgress {
  readonly phase: "generate" | "similarity" | "rubric" | "pairwise";
  readonly done: number;
  readonly total: number;
  readonly cached?: number;
}

export interface ArenaRunOptions {
  readonly configPath: string;
  /** Where gate.json and results.json go (created if missing). */
  readonly outDir: string;
  readonly onProgress?: (progress: ArenaProgress) => void;
  /** Aborts every call in flight. */
  readonly signal?: AbortSignal;
}

/** Everything a run produced. */
export interface ArenaRun
  extends Pick<
    GateInput,
    "cases" | "generations" | "level1" | "similarity" | "rubricScores" | "pairwise" | "audit"
  > {
  readonly config: LoadedArenaConfig;
  readonly spec: ExperimentSpec;
  readonly rubric: Rubric;
  readonly decision: GateDecision;
  readonly gateFile: GateFile;
  readonly files: { readonly gate: string; readonly results: string; readonly report: string };
  /** Calls answered from the cache, and calls made. */
  readonly calls: { readonly cached: number; readonly made: number };
}

/** A run that could not finish: generation failures after retries, listed by case and arm. */
export class ArenaRunError extends Error {
  constructor(readonly failures: readonly GenerationFailure[]) {
    super(
      [
        `${failures.length} generation call(s) failed after their retries:`,
        ...failures.map((f) => `  ${f.caseId} (${f.arm}, ${f.variant} on ${f.endpoint}): ${f.message}`),
      ].join("\n"),
    );
    this.name = "ArenaRunError";
  }
}

/** Runs `tasks` (already limited inside), reporting progress after each. */
async function tracked<T>(
  tasks: readonly (() => Promise<T>)[],
  phase: ArenaProgress["phase"],
  onProgress: ArenaRunOptions["onProgress"],
): Promise<T[]> {
  let done = 0;
  return await Promise.all(
    tasks.map(async (task) => {
      const value = await task();
      done += 1;
      onProgress?.({ phase, done, total: tasks.length });
      return value;
    }),
  );
}

export async function runArena(options: ArenaRunOptions): Promise<ArenaRun> {
  const config = await loadArenaConfig(options.configPath);
  const spec = await loadSpecFile(config.spec);
  const unknown = Object.keys(config.endpoints).filter((name) => !(name in spec.deployments));
  if (unknown.length > 0) {
    // A mistyped key would silently fall back to the spec's endpoint: another server than meant.
    throw new SpecError(
      unknown.map((name) => ({
        path: `endpoints.${name}`,
        message: `the spec has no deployment "${name}" (it has: ${Object.keys(spec.deployments).join(", ")})`,
      })),
      config.path,
    );
  }
  const { cases, hash: datasetHash } = await loadDataset(config.dataset);
  const rubric = await loadRubric(config.rubric);
  const audit =
    config.audit === undefined
      ? undefined
      : await loadAudit(
          config.audit,
          cases.map((c) => c.id),
        );

  const cache = new ResultsCache(config.cache);
  const limiter = limit(config.concurrency);
  const post: PostOptions = {
    timeoutMs: config.timeoutSeconds * 1000,
    retries: config.retries,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  const { generations, failures } = await generate({
    spec,
    cases,
    seed: config.seed,
    maxTokens: config.maxTokens,
    endpoints: config.endpoints,
    limiter,
    cache,
    post,
    onProgress: (p) =>
      options.onProgress?.({ phase: "generate", done: p.done, total: p.total, cached: p.cached }),
  });
  if (failures.length > 0) throw new ArenaRunError(failures);

  const byCase = new Map(cases.map((c) => [c.id, c]));
  const level1 = generations.flatMap((g) =>
    runLevel1(g.caseId, g.arm, g.text, [...(byCase.get(g.caseId)?.checks ?? []), ...config.checks]),
  );
  const similarityResults =
    config.embeddings === undefined
      ? []
      : (
          await similarity({
            endpoint: config.embeddings.url,
            model: config.embeddings.model,
            cases,
            generations,
            limiter,
            cache,
            post,
          })
        ).results;

  const judge = new Judge({
    endpoint: config.judge.url,
    model: config.judge.model,
    seed: config.seed,
    temperature: config.judge.temperature,
    limiter,
    cache,
    post,
  });
  const rubricScores = await tracked(
    generations.map((g) => () => {
      const testCase = byCase.get(g.caseId) as GoldenCase;
      return judge.score(testCase, g.arm, g.text, rubric);
    }),
    "rubric",
    options.onProgress,
  );
  const answers = new Map<string, { control?: string; treatment?: string }>();
  for (const g of generations) answers.set(g.caseId, { ...answers.get(g.caseId), [g.arm]: g.text });
  const pairwise = await tracked(
    cases.map((c) => () => {
      const pair = answers.get(c.id);
      return judge.judgePair(c, pair?.control ?? "", pair?.treatment ?? "", rubric);
    }),
    "pairwise",
    options.onProgress,
  );

  const decision = decideGate({
    gate: spec.gate,
    alpha: spec.analysis.alpha,
    cases,
    axes: rubric.axes.map((axis) => axis.name),
    generations,
    level1,
    similarity: similarityResults,
    rubricScores,
    pairwise,
    ...(audit === undefined ? {} : { audit }),
  });
  const gateFile: GateFile = {
    version: GATE_FILE_VERSION,
    experiment: spec.name,
    specHash: specHash(spec),
    datasetHash,
    rubricHash: rubricHash(rubric),
    judge: judge.config,
    createdAt: new Date().toISOString(),
    passed: decision.passed,
    checks: [...decision.checks],
    results: { ...decision.results },
  };
  await mkdir(options.outDir, { recursive: true });
  const files = {
    gate: join(options.outDir, "gate.json"),
    results: join(options.outDir, "results.json"),
    report: join(options.outDir, "report.html"),
  };
  await writeFile(files.gate, `${JSON.stringify(gateFile, null, 2)}\n`);
  await writeFile(
    files.results,
    `${JSON.stringify({ generations, level1, similarity: similarityResults, rubricScores, pairwise, audit }, null, 2)}\n`,
  );
  const stats = cache.stats();
  const run: ArenaRun = {
    config,
    spec,
    cases,
    rubric,
    generations,
    level1,
    similarity: similarityResults,
    rubricScores,
    pairwise,
    ...(audit === undefined ? {} : { audit }),
    decision,
    gateFile,
    files,
    calls: { cached: stats.hits, made: stats.misses },
  };
  await writeFile(files.report, renderArenaReport(run));
  return run;
}
