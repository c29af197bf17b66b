/**
 * The local stack of one run, started in dependency order and stopped in reverse:
 *
 * Redis (assignments and the pause/rollback state) → simulated vLLM replicas → the router (in this
 * process, reading a runtime copy of the spec that points at the replicas and at Redis) →
 * Alertmanager (routing pause/rollback to the router's webhook with the admin token) → Prometheus
 * (the experiment's rules in the local profile, scraping the router and the replicas).
 *
 * Everything lives in one run directory; `stop()` stops it all and removes it. A failure while
 * starting stops what had started before rethrowing.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { parse } from "yaml";
import { alertmanagerYaml } from "../monitoring/alertmanager.ts";
import { defaultTokenFile } from "../monitoring/config.ts";
import { rulesYaml } from "../monitoring/rules.ts";
import { type RunningRouter, startRouter } from "../router/main.ts";
import { prometheusConfig, REPLICAS_FILE, RULES_FILE, replicaTargets } from "./prometheus-config.ts";
import type { LoadedScenario } from "./scenario.ts";
import type { ColdStart, DeploymentBehaviour } from "./scenario-schema.ts";
import { deploymentBehaviourSchema } from "./scenario-schema.ts";
import { type RunningSimulator, startSimulator } from "./simulator/server.ts";
import { type RunningAlertmanager, startAlertmanager } from "./supervisor/alertmanager.ts";
import { type RunningPrometheus, startPrometheus } from "./supervisor/prometheus.ts";
import { type RunningRedis, startRedis } from "./supervisor/redis.ts";

export interface StackOptions {
  /** The run directory (made by the caller, removed by the caller after `stop()`). */
  readonly runDir: string;
  /** The router's logger (the caller watches it for review alerts). */
  readonly logger: Logger;
  /** One line per step, for progress output. */
  readonly log: (line: string) => void;
}

export interface LocalStack {
  readonly router: RunningRouter;
  readonly prometheus: RunningPrometheus;
  readonly alertmanager: RunningAlertmanager;
  readonly redis: RunningRedis;
  /** The router's event log (exposures and outcomes). */
  readonly eventsPath: string;
  /** The replicas of a deployment, in start order. */
  replicas(deployment: string): readonly RunningSimulator[];
  /** Starts `count` cold replicas of `deployment` and adds them to the router and to Prometheus. */
  addReplicas(deployment: string, count: number, coldStart?: ColdStart): Promise<void>;
  /** Stops everything in reverse start order. Idempotent. */
  stop(): Promise<void>;
}

/** How long Prometheus may take to scrape every target once. */
const TARGETS_UP_TIMEOUT_MS = 30_000;

/** Resolves once every active target of Prometheus has been scraped successfully. */
async function waitForTargets(prometheus: RunningPrometheus, expected: number): Promise<void> {
  const deadline = Date.now() + TARGETS_UP_TIMEOUT_MS;
  let last = "no answer";
  while (Date.now() < deadline) {
    const up = await prometheus.query("sum(up)");
    if (up.ok) {
      const value = Number(up.series[0]?.value[1] ?? 0);
      if (value >= expected) return;
      last = `${value} of ${expected} targets up`;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `Prometheus did not scrape every target within ${TARGETS_UP_TIMEOUT_MS / 1000} s (${last})`,
  );
}

/** Resolves once Prometheus has loaded the experiment's rule group. */
async function waitForRules(prometheus: RunningPrometheus): Promise<void> {
  const deadline = Date.now() + TARGETS_UP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const answer = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
      data?: { groups?: unknown[] };
    };
    if ((answer.data?.groups?.length ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("Prometheus did not load the experiment's rules");
}

/** Writes `text` to `path` atomically (readers never see half a file). */
function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

export async function startStack(loaded: LoadedScenario, options: StackOptions): Promise<LocalStack> {
  const { scenario, spec } = loaded;
  const { runDir, log } = options;
  const stoppers: (() => Promise<void>)[] = [];
  let stopped = false;
  const stopAll = async () => {
    stopped = true;
    // A replica still starting (a scale-up) registers after this began: loop until none is left.
    while (stoppers.length > 0) {
      for (const stop of stoppers.splice(0).reverse()) {
        await stop().catch((error: Error) => log(`while stopping: ${error.message}`));
      }
    }
  };
  try {
    log("starting redis-server");
    const redis = await startRedis(runDir);
    stoppers.push(() => redis.stop());

    const behaviour = (deployment: string): DeploymentBehaviour =>
      scenario.deployments[deployment] ?? deploymentBehaviourSchema.parse({});
    const simulators = new Map<string, RunningSimulator[]>();
    const launch = async (deployment: string, startCold: boolean, coldStart?: ColdStart) => {
      const list = simulators.get(deployment) ?? [];
      simulators.set(deployment, list);
      const replica = list.length;
      const simulator = await startSimulator({
        deployment,
        model: spec.deployments[deployment]?.model ?? deployment,
        replica,
        behaviour: behaviour(deployment),
        ...(coldStart === undefined ? {} : { coldStart }),
        startCold,
        // Distinct, reproducible streams per replica.
        seed: scenario.seed * 1000 + [...Object.keys(spec.deployments)].indexOf(deployment) * 100 + replica,
      });
      if (stopped) {
        await simulator.stop();
        throw new Error(`the stack stopped while a ${deployment} replica was starting`);
      }
      list.push(simulator);
      stoppers.push(() => simulator.stop());
      return simulator;
    };
    for (const deployment of Object.keys(spec.deployments)) {
      const count = behaviour(deployment).replicas;
      log(`starting ${count} simulated vLLM replicas of ${deployment}`);
      for (let i = 0; i < count; i++) await launch(deployment, false);
    }

    // The router reads a runtime copy of the spec: the replicas' URLs and the shared Redis.
    const raw = parse(readFileSync(loaded.specPath, "utf8")) as {
      deployments: Record<string, { endpoints?: string[] }>;
      router?: Record<string, unknown>;
    };
    const runtimeSpecPath = join(runDir, "spec.json");
    const writeSpec = () => {
      for (const [deployment, list] of simulators) {
        const entry = raw.deployments[deployment];
        if (entry !== undefined) entry.endpoints = list.map((s) => s.url);
      }
      raw.router = { ...raw.router, store: "redis", redisUrl: redis.url };
      writeAtomic(runtimeSpecPath, `${JSON.stringify(raw, null, 2)}\n`);
    };
    writeSpec();

    const adminToken = randomBytes(24).toString("hex");
    const eventsPath = join(runDir, "events.jsonl");
    log("starting the router");
    const router = await startRouter({
      specPath: runtimeSpecPath,
      port: 0,
      adminPort: 0,
      eventsPath,
      adminToken,
      logger: options.logger,
      // The stack rewrites the spec itself (scale-ups) and reloads explicitly.
      watch: false,
      shutdownDeadlineMs: 5_000,
      context: { statePollMs: 250 },
    });
    stoppers.push(() => router.stop());

    log("starting prometheus-alertmanager");
    const alertmanager = await startAlertmanager(
      alertmanagerYaml(spec, { profile: "local", webhookUrl: `${router.adminUrl}/alertmanager` }),
      { [defaultTokenFile(spec, "local")]: `${adminToken}\n` },
      runDir,
    );
    stoppers.push(() => alertmanager.stop());

    const targets = () =>
      replicaTargets(
        [...simulators.values()].flat().map((s) => ({
          address: s.url.replace(/^http:\/\//, ""),
          deployment: s.deployment,
          replica: `${s.deployment}-${s.replica}`,
        })),
      );
    log("starting prometheus");
    // The rules are loaded once every target has been scraped: Prometheus 2 scrapes new targets
    // only after its 5 s discovery reload, and an alert evaluated before that (no router metrics
    // yet) would judge the stack's start-up rather than the experiment.
    const prometheus = await startPrometheus(
      prometheusConfig(
        spec,
        [router.adminUrl.replace(/^http:\/\//, "")],
        alertmanager.url.replace(/^http:\/\//, ""),
      ),
      { [RULES_FILE]: "groups: []\n", [REPLICAS_FILE]: targets() },
      runDir,
    );
    stoppers.push(() => prometheus.stop());
    await waitForTargets(prometheus, 1 + [...simulators.values()].flat().length);
    await prometheus.reload({ [RULES_FILE]: rulesYaml(spec, { profile: "local" }) });
    await waitForRules(prometheus);

    return {
      router,
      prometheus,
      alertmanager,
      redis,
      eventsPath,
      replicas: (deployment) => simulators.get(deployment) ?? [],
      addReplicas: async (deployment, count, coldStart) => {
        for (let i = 0; i < count; i++) await launch(deployment, true, coldStart);
        writeSpec();
        if (!(await router.reload()))
          throw new Error(`the router refused the spec with new ${deployment} replicas`);
        writeAtomic(join(prometheus.dir, REPLICAS_FILE), targets());
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
