/**
 * The local stack's Prometheus configuration: the experiment's rules (local profile: seconds,
 * not minutes), alerts sent to the local Alertmanager, and two scrape jobs, the router's admin
 * port and the simulated vLLM replicas. Replicas come and go during a run (a scale-up), so they are
 * listed in a file_sd file that Prometheus re-reads when it changes.
 */
import { stringify } from "yaml";
import { durationMs, formatDuration, timing } from "../monitoring/config.ts";
import type { ExperimentSpec } from "../spec/schema.ts";

/** File name of the rule file beside prometheus.yml. */
export const RULES_FILE = "rules.yaml";
/** File name of the replica target list beside prometheus.yml. */
export const REPLICAS_FILE = "vllm-targets.json";

/**
 * Scrape four times per evaluation interval (2 s locally → 500 ms): a rule then reads samples at
 * most a quarter interval old, so the time from a regression to its pause is dominated by the
 * guardrail's own `for:`, as in production, not by scrape lag. Scraping a few local targets this
 * often costs next to nothing.
 */
export function scrapeInterval(spec: Pick<ExperimentSpec, "monitoring">): string {
  return formatDuration(Math.max(250, Math.round(durationMs(timing(spec, "local").interval) / 4)));
}

/** A simulated replica as a scrape target. */
export interface ReplicaTarget {
  /** `127.0.0.1:<port>` */
  readonly address: string;
  readonly deployment: string;
  readonly replica: string;
}

/** prometheus.yml for the local stack. */
export function prometheusConfig(
  spec: Pick<ExperimentSpec, "monitoring">,
  routerAdmins: readonly string[],
  alertmanager: string,
): string {
  const scrape = scrapeInterval(spec);
  return stringify({
    global: {
      scrape_interval: scrape,
      scrape_timeout: scrape,
      evaluation_interval: timing(spec, "local").interval,
    },
    rule_files: [RULES_FILE],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [alertmanager] }] }] },
    scrape_configs: [
      { job_name: "llm-ab-router", static_configs: [{ targets: [...routerAdmins] }] },
      {
        job_name: "vllm",
        file_sd_configs: [{ files: [REPLICAS_FILE], refresh_interval: "1s" }],
      },
    ],
  });
}

/** The file_sd target list of the replicas. */
export function replicaTargets(replicas: readonly ReplicaTarget[]): string {
  return `${JSON.stringify(
    replicas.map((r) => ({ targets: [r.address], labels: { deployment: r.deployment, replica: r.replica } })),
    null,
    2,
  )}\n`;
}
