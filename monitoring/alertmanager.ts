/**
 * Alertmanager configuration of one experiment: `pause` and `rollback` alerts go to the router's
 * webhook (`POST /alertmanager` on its admin port, bearer token read from a file), `review` alerts
 * to a notification receiver; alerts are grouped by experiment.
 *
 * `alertRouting` is the routing as data, shared by the Alertmanager file rendered here and the
 * prometheus-operator `AlertmanagerConfig` built from it elsewhere.
 */
import { stringify } from "yaml";
import type { ExperimentSpec } from "../spec/schema.ts";
import {
  type AlertmanagerTiming,
  alertmanagerTimings,
  defaultTokenFile,
  defaultWebhookUrl,
  type MonitoringProfile,
} from "./config.ts";

/** One Alertmanager label matcher. */
export interface AlertmanagerMatcher {
  readonly name: string;
  readonly matchType: "=" | "!=" | "=~" | "!~";
  readonly value: string;
}

/** A receiver in Alertmanager's own configuration format (`name` plus `*_configs`). */
export interface AlertmanagerReceiver {
  readonly name: string;
  readonly [integration: string]: unknown;
}

/** Options of {@link renderAlertmanager}. */
export interface AlertmanagerOptions {
  /** Chooses the notification timings and the defaults below. Default production. */
  readonly profile?: MonitoringProfile;
  /** The router's Alertmanager webhook. Default: {@link defaultWebhookUrl} of the profile. */
  readonly webhookUrl?: string;
  /** File holding the router's admin bearer token. Default: {@link defaultTokenFile} of the profile. */
  readonly tokenFile?: string;
  /**
   * Where `review` alerts go (Slack, e-mail, PagerDuty…). Default: the router's webhook as well,
   * which logs them (it acts only on pause and rollback), so a review is never silently dropped.
   */
  readonly reviewReceiver?: AlertmanagerReceiver;
}

/** A child route: alerts matching every matcher go to `receiver`. */
export interface AlertRoute {
  readonly receiver: string;
  readonly matchers: readonly AlertmanagerMatcher[];
}

/** The experiment's routing as data. */
export interface AlertRouting {
  /** Alerts are grouped per experiment: one notification carries all of an experiment's alerts. */
  readonly groupBy: readonly string[];
  readonly timing: AlertmanagerTiming;
  /** Receiver of anything no child route takes (the review receiver). */
  readonly defaultReceiver: string;
  readonly routes: readonly AlertRoute[];
  /** Every receiver the routes name, router webhook first. */
  readonly receivers: readonly AlertmanagerReceiver[];
}

/** Name of the receiver that calls the router's webhook. */
export function routerReceiverName(spec: Pick<ExperimentSpec, "name">): string {
  return `llm-ab-${spec.name}-router`;
}

/** Name of the default review receiver. */
export function reviewReceiverName(spec: Pick<ExperimentSpec, "name">): string {
  return `llm-ab-${spec.name}-review`;
}

/** A webhook to the router authenticated with the admin bearer token. */
function routerWebhook(name: string, url: string, tokenFile: string): AlertmanagerReceiver {
  return {
    name,
    webhook_configs: [
      {
        // The router acts on firing alerts only; a resolved guardrail does not resume traffic,
        // a person does.
        send_resolved: false,
        url,
        http_config: { authorization: { type: "Bearer", credentials_file: tokenFile } },
      },
    ],
  };
}

/** The experiment's routes and receivers. */
export function alertRouting(
  spec: Pick<ExperimentSpec, "name">,
  options: AlertmanagerOptions = {},
): AlertRouting {
  const profile = options.profile ?? "production";
  const url = options.webhookUrl ?? defaultWebhookUrl(spec, profile);
  const tokenFile = options.tokenFile ?? defaultTokenFile(spec, profile);
  const router = routerWebhook(routerReceiverName(spec), url, tokenFile);
  const review = options.reviewReceiver ?? routerWebhook(reviewReceiverName(spec), url, tokenFile);
  if (review.name === router.name) {
    throw new Error(
      `reviewReceiver must not be named "${router.name}": that name is the router's webhook receiver`,
    );
  }
  const experiment: AlertmanagerMatcher = { name: "experiment", matchType: "=", value: spec.name };
  return {
    groupBy: ["experiment"],
    timing: alertmanagerTimings[profile],
    defaultReceiver: review.name,
    routes: [
      {
        receiver: router.name,
        matchers: [experiment, { name: "action", matchType: "=~", value: "pause|rollback" }],
      },
      { receiver: review.name, matchers: [experiment, { name: "action", matchType: "=", value: "review" }] },
    ],
    receivers: [router, review],
  };
}

/** A matcher as Alertmanager's `matchers:` strings write it: `action=~"pause|rollback"`. */
export function matcherText(matcher: AlertmanagerMatcher): string {
  return `${matcher.name}${matcher.matchType}${JSON.stringify(matcher.value)}`;
}

/** The Alertmanager configuration file of an experiment, as data. */
export function renderAlertmanager(
  spec: Pick<ExperimentSpec, "name">,
  options: AlertmanagerOptions = {},
): Record<string, unknown> {
  const routing = alertRouting(spec, options);
  const { groupWait, groupInterval, repeatInterval } = routing.timing;
  return {
    route: {
      receiver: routing.defaultReceiver,
      group_by: [...routing.groupBy],
      group_wait: groupWait,
      group_interval: groupInterval,
      repeat_interval: repeatInterval,
      routes: routing.routes.map((route) => ({
        receiver: route.receiver,
        matchers: route.matchers.map(matcherText),
      })),
    },
    receivers: [...routing.receivers],
  };
}

/** The Alertmanager configuration as YAML, keys sorted so the same spec always gives the same bytes. */
export function alertmanagerYaml(
  spec: Pick<ExperimentSpec, "name">,
  options: AlertmanagerOptions = {},
): string {
  return stringify(renderAlertmanager(spec, options), { sortMapEntries: true, lineWidth: 0 });
}
