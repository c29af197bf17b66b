/**
 * The experiment's monitoring as Kubernetes objects, for the Pulumi `ExperimentMonitoring`
 * component (issue 5): a prometheus-operator `PrometheusRule` carrying the rule file, an
 * `AlertmanagerConfig` carrying the same routing as the Alertmanager file, and a `ConfigMap` with
 * the dashboard that Grafana's sidecar picks up by its `grafana_dashboard: "1"` label.
 *
 * Plain objects, built without Pulumi, so they are tested without mocks; the component passes them
 * to `kubernetes.apiextensions.CustomResource` / `kubernetes.core.v1.ConfigMap`. The router's admin
 * token is only ever referenced by Secret name, never copied into an object.
 */
import type { ExperimentSpec } from "../spec/schema.ts";
import { type AlertmanagerReceiver, alertRouting } from "./alertmanager.ts";
import { type MonitoringProfile, ROUTER_ADMIN_PORT } from "./config.ts";
import { dashboardJson, dashboardUid } from "./dashboard.ts";
import { sortedJson } from "./dashboards/sorted-json.ts";
import type { RuleGroup } from "./rule-file.ts";
import { renderRules } from "./rules.ts";

/** A Kubernetes object as plain data. */
export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

/** What every object builder takes. */
export interface ObjectOptions {
  /** Namespace the objects (and the router they talk to) live in. */
  readonly namespace: string;
  /** Whose timings the rules and dashboard use. Default production. */
  readonly profile?: MonitoringProfile;
  /**
   * Extra labels, e.g. the `release: kube-prometheus-stack` a Prometheus' `ruleSelector` or an
   * Alertmanager's `alertmanagerConfigSelector` selects on. Default none.
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A key of a Kubernetes Secret (`SecretKeySelector`). */
export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

export interface AlertmanagerConfigOptions extends ObjectOptions {
  /** The router's Alertmanager webhook. Default: {@link routerWebhookUrl} in `namespace`. */
  readonly webhookUrl?: string;
  /** The Secret key holding the router's admin bearer token. Default: {@link routerTokenSecret}. */
  readonly tokenSecret?: SecretKeyRef;
  /**
   * Where `review` alerts go, as an AlertmanagerConfig receiver (camelCase fields, secrets by
   * reference), e.g. `{ name: "team-chat", slackConfigs: [{ apiURL: { name, key }, channel }] }`.
   * Default: the router's webhook, which logs them.
   */
  readonly reviewReceiver?: { readonly name: string; readonly [integration: string]: unknown };
}

export interface DashboardConfigMapOptions extends ObjectOptions {
  /** Grafana folder for the dashboard (the sidecar's `grafana_folder` annotation). Default: none. */
  readonly folder?: string;
}

/** The name every monitoring object of an experiment shares: `llm-ab-<experiment>`. */
export function objectName(spec: Pick<ExperimentSpec, "name">): string {
  return `llm-ab-${spec.name}`;
}

/**
 * The Secret holding the router's admin token, as the router's stack creates it: the
 * `<experiment>-router-admin-token` Secret, key `token` (the same one config.ts' default token file
 * mounts for a file-configured Alertmanager).
 */
export function routerTokenSecret(spec: Pick<ExperimentSpec, "name">): SecretKeyRef {
  return { name: `${spec.name}-router-admin-token`, key: "token" };
}

/**
 * The router's webhook by its fully qualified Service name: Alertmanager usually runs in another
 * namespace (monitoring), where the short name `<experiment>-router-admin` would not resolve.
 */
export function routerWebhookUrl(spec: Pick<ExperimentSpec, "name">, namespace: string): string {
  return `http://${spec.name}-router-admin.${namespace}.svc:${ROUTER_ADMIN_PORT}/alertmanager`;
}

function metadata(
  spec: Pick<ExperimentSpec, "name">,
  options: ObjectOptions,
  extra: Record<string, string> = {},
) {
  return {
    name: objectName(spec),
    namespace: options.namespace,
    labels: {
      ...options.labels,
      ...extra,
      "app.kubernetes.io/managed-by": "llm-ab",
      "app.kubernetes.io/part-of": "llm-ab",
      "llm-ab/experiment": spec.name,
    },
  };
}

/** The object with its keys sorted at every level, so two renders compare equal as text too. */
function sorted<T>(value: T): T {
  return JSON.parse(sortedJson(value)) as T;
}

/**
 * Alerts carry the object's namespace as a label: prometheus-operator scopes an AlertmanagerConfig
 * to alerts whose `namespace` label is its own, and the rules aggregate that label away.
 */
function withNamespaceLabel(groups: readonly RuleGroup[], namespace: string): RuleGroup[] {
  return groups.map((group) => ({
    ...group,
    rules: group.rules.map((rule) =>
      "alert" in rule ? { ...rule, labels: { ...rule.labels, namespace } } : rule,
    ),
  }));
}

/** A `PrometheusRule` (monitoring.coreos.com/v1) holding the experiment's recording and alert rules. */
export function prometheusRuleObject(spec: ExperimentSpec, options: ObjectOptions): KubernetesObject {
  const { groups } = renderRules(spec, { profile: options.profile ?? "production" });
  return sorted({
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: metadata(spec, options),
    spec: { groups: withNamespaceLabel(groups, options.namespace) },
  });
}

/** A router webhook receiver of the Alertmanager file, with its token file swapped for the Secret. */
function crdWebhookReceiver(receiver: AlertmanagerReceiver, token: SecretKeyRef) {
  const configs = (receiver.webhook_configs ?? []) as { url: string; send_resolved: boolean }[];
  return {
    name: receiver.name,
    webhookConfigs: configs.map((config) => ({
      url: config.url,
      sendResolved: config.send_resolved,
      httpConfig: { authorization: { type: "Bearer", credentials: { name: token.name, key: token.key } } },
    })),
  };
}

/**
 * An `AlertmanagerConfig` (monitoring.coreos.com/v1alpha1) with the routing of alertmanager.ts:
 * `pause` and `rollback` to the router's webhook with its bearer token, `review` to the review
 * receiver, grouped by experiment.
 */
export function alertmanagerConfigObject(
  spec: ExperimentSpec,
  options: AlertmanagerConfigOptions,
): KubernetesObject {
  const token = options.tokenSecret ?? routerTokenSecret(spec);
  const custom = options.reviewReceiver;
  const routing = alertRouting(spec, {
    profile: options.profile ?? "production",
    webhookUrl: options.webhookUrl ?? routerWebhookUrl(spec, options.namespace),
    // Only routing comes from here; the token reaches the CRD as a Secret reference, not a file.
    ...(custom === undefined ? {} : { reviewReceiver: { name: custom.name } }),
  });
  const receivers = routing.receivers.map((receiver) =>
    custom !== undefined && receiver.name === custom.name ? custom : crdWebhookReceiver(receiver, token),
  );
  return sorted({
    apiVersion: "monitoring.coreos.com/v1alpha1",
    kind: "AlertmanagerConfig",
    metadata: metadata(spec, options),
    spec: {
      route: {
        receiver: routing.defaultReceiver,
        groupBy: [...routing.groupBy],
        groupWait: routing.timing.groupWait,
        groupInterval: routing.timing.groupInterval,
        repeatInterval: routing.timing.repeatInterval,
        routes: routing.routes.map((route) => ({
          receiver: route.receiver,
          matchers: route.matchers.map(({ name, matchType, value }) => ({ name, matchType, value })),
        })),
      },
      receivers,
    },
  });
}

/** The data key of the dashboard in its ConfigMap: `<uid>.json`. */
export function dashboardFileName(spec: Pick<ExperimentSpec, "name">): string {
  return `${dashboardUid(spec.name)}.json`;
}

/** A `ConfigMap` with the dashboard JSON, labelled `grafana_dashboard: "1"` for Grafana's sidecar. */
export function dashboardConfigMapObject(
  spec: ExperimentSpec,
  options: DashboardConfigMapOptions,
): KubernetesObject {
  const base = metadata(spec, options, { grafana_dashboard: "1" });
  return sorted({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata:
      options.folder === undefined ? base : { ...base, annotations: { grafana_folder: options.folder } },
    data: { [dashboardFileName(spec)]: dashboardJson(spec, { profile: options.profile ?? "production" }) },
  });
}
