/**
 * Every tunable of the generated monitoring in one place: evaluation timing per profile, how long
 * a breach must hold, the fixed minimums of the SRM and no-data alerts, severities, runbook links,
 * Alertmanager timings and where the router's webhook is.
 *
 * Two profiles: `production` reads `spec.monitoring.{evaluationInterval, window}`; `local` reads
 * `spec.monitoring.local.*`, so the one-machine stack judges guardrails in seconds, not minutes.
 */
import type { GuardrailAction } from "../spec/metrics-schema.ts";
import { durationSeconds } from "../spec/primitives.ts";
import type { ExperimentSpec } from "../spec/schema.ts";

export const monitoringProfiles = ["production", "local"] as const;
export type MonitoringProfile = (typeof monitoringProfiles)[number];

/** How often rules are evaluated and over what range, for one profile. */
export interface Timing {
  /** Rule group `interval`, a Prometheus duration such as `1m`. */
  readonly interval: string;
  /** Range of every guardrail `rate(...[window])`, such as `5m`. */
  readonly window: string;
  /** Range of the SRM check (see {@link SRM_WINDOW_MULTIPLE}). */
  readonly srmWindow: string;
}

/** The profile's timing; `production` when none is named. */
export function timing(spec: Pick<ExperimentSpec, "monitoring">, profile: MonitoringProfile): Timing {
  const source = profile === "local" ? spec.monitoring.local : spec.monitoring;
  const windowMs = durationMs(source.window);
  return {
    interval: source.evaluationInterval,
    window: source.window,
    srmWindow: formatDuration(windowMs * SRM_WINDOW_MULTIPLE),
  };
}

/** Milliseconds in a single-unit Prometheus duration (`"5m"` → 300000). */
export function durationMs(text: string): number {
  const seconds = durationSeconds(text);
  if (!(seconds > 0)) throw new RangeError(`not a positive Prometheus duration: "${text}"`);
  return Math.round(seconds * 1000);
}

const UNITS: readonly [suffix: string, ms: number][] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
  ["ms", 1],
];

/** A duration in the largest single unit that divides it evenly (120000 → `"2m"`), as specs write them. */
export function formatDuration(ms: number): string {
  if (!(Number.isInteger(ms) && ms > 0)) throw new RangeError(`not a positive whole number of ms: ${ms}`);
  for (const [suffix, size] of UNITS) {
    if (ms % size === 0) return `${ms / size}${suffix}`;
  }
  return `${ms}ms`;
}

/**
 * A guardrail's `for:`: `windows` evaluation intervals. A breach must be seen at the first
 * evaluation and still be there `windows` intervals later before the alert fires and acts.
 */
export function holdFor(windows: number, time: Timing): string {
  return formatDuration(durationMs(time.interval) * windows);
}

/**
 * The SRM check counts new units over this many guardrail windows. Assignments arrive slowly (one
 * per unit, not per request), so a guardrail-sized window (5m) holds too few to see a skew; twelve
 * windows make 1h in production and 2m locally.
 */
export const SRM_WINDOW_MULTIPLE = 12;

/** Evaluations the SRM condition must hold before it fires (it flaps less than latency does). */
export const SRM_WINDOWS = 2;

/**
 * New units the SRM window must hold before the z-score is trusted: the normal approximation to the
 * binomial needs a few hundred units at a 5–95 % split, and an alarm on 20 units would be noise.
 */
export const SRM_MIN_UNITS = 100;

/** Evaluations a no-data condition must hold before it fires. */
export const NO_DATA_WINDOWS = 2;

/**
 * Treatment requests the window must be expected to hold (from control's volume and the split)
 * before their absence counts as missing data. With a Poisson count of mean 20, seeing none by
 * chance has probability e^-20; at a 1 % canary on a quiet hour, zero requests is just chance.
 */
export const NO_DATA_MIN_EXPECTED_REQUESTS = 20;

/** Alert severity by what the alert makes happen: automatic actions page, reviews do not. */
export const severityByAction: Readonly<Record<GuardrailAction, string>> = {
  pause: "critical",
  rollback: "critical",
  review: "warning",
};

/**
 * The alert's runbook link: the spec's `monitoring.runbookUrl` with the lowercased alert name as
 * fragment (one page, one section per alert, as kubernetes-mixin links them); undefined without one.
 */
export function runbookUrl(spec: Pick<ExperimentSpec, "monitoring">, alertName: string): string | undefined {
  const base = spec.monitoring.runbookUrl;
  if (base === undefined) return undefined;
  return `${base.replace(/#.*$/, "")}#${alertName.toLowerCase()}`;
}

/** Alertmanager notification timings (route `group_wait`, `group_interval`, `repeat_interval`). */
export interface AlertmanagerTiming {
  /** Wait before the first notification of a new group: the guardrail's `for:` already waited. */
  readonly groupWait: string;
  /** Wait before notifying about alerts added to a group already notified. */
  readonly groupInterval: string;
  /** Re-send a still-firing group this often; the router's actions are idempotent. */
  readonly repeatInterval: string;
}

export const alertmanagerTimings: Readonly<Record<MonitoringProfile, AlertmanagerTiming>> = {
  production: { groupWait: "10s", groupInterval: "1m", repeatInterval: "1h" },
  local: { groupWait: "1s", groupInterval: "2s", repeatInterval: "1m" },
};

/** The router's admin port when nothing else is said (DESIGN.md, "Router ports"). */
export const ROUTER_ADMIN_PORT = 8081;

/**
 * The router's Alertmanager webhook (`POST /alertmanager` on its admin port) when no URL is given:
 * locally the router on this machine; in Kubernetes the `<experiment>-router-admin` Service.
 * Deployments that name the Service differently pass the URL explicitly.
 */
export function defaultWebhookUrl(spec: Pick<ExperimentSpec, "name">, profile: MonitoringProfile): string {
  const host = profile === "local" ? "127.0.0.1" : `${spec.name}-router-admin`;
  return `http://${host}:${ROUTER_ADMIN_PORT}/alertmanager`;
}

/**
 * File holding the router's admin bearer token when no path is given: locally beside the rendered
 * configuration; in Kubernetes where prometheus-operator mounts the Secret
 * `<experiment>-router-admin-token` (key `token`) listed in the Alertmanager's `secrets`.
 */
export function defaultTokenFile(spec: Pick<ExperimentSpec, "name">, profile: MonitoringProfile): string {
  if (profile === "local") return "router-admin-token";
  return `/etc/alertmanager/secrets/${spec.name}-router-admin-token/token`;
}
