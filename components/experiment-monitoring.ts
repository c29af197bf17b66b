/**
 * `ExperimentMonitoring`: the experiment's PrometheusRule, AlertmanagerConfig (pause and rollback
 * to the router's admin webhook, authenticated with the token Secret) and the Grafana dashboard
 * ConfigMap, all built by `monitoring/objects.ts` from the spec.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringProfile } from "../monitoring/config.ts";
import { dashboardUid } from "../monitoring/dashboard.ts";
import {
  alertmanagerConfigObject,
  dashboardConfigMapObject,
  type KubernetesObject,
  prometheusRuleObject,
} from "../monitoring/objects.ts";
import type { ExperimentSpec } from "../spec/schema.ts";

export interface ExperimentMonitoringArgs {
  /** The parsed experiment spec. Plain data: the rules are generated at preview time. */
  readonly spec: ExperimentSpec;
  /** Namespace of the objects and of the router they call. Default "llm-ab". */
  readonly namespace?: string;
  /** Timings of the rules and dashboard. Default "production". */
  readonly profile?: MonitoringProfile;
  /**
   * Extra labels on every object, e.g. `release: kube-prometheus-stack` for the operator's rule and
   * Alertmanager config selectors. Default none.
   */
  readonly labels?: Readonly<Record<string, string>>;
  /** Grafana folder of the dashboard. Default none (the sidecar's default folder). */
  readonly dashboardFolder?: string;
  /** The router's Alertmanager webhook URL. Default the `<experiment>-router-admin` Service in `namespace`. */
  readonly webhookUrl?: string;
}

/** The prometheus-operator objects and the dashboard of one experiment. */
export class ExperimentMonitoring extends pulumi.ComponentResource {
  /** uid of the Grafana dashboard. */
  public readonly dashboardUid: string;
  /** Names of the alert rules, sorted. */
  public readonly alertNames: readonly string[];
  /** Names of the recording rules, sorted. */
  public readonly recordNames: readonly string[];

  constructor(name: string, args: ExperimentMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-ab:components:ExperimentMonitoring", name, {}, opts);
    const { spec } = args;
    const options = {
      namespace: args.namespace ?? "llm-ab",
      profile: args.profile ?? "production",
      labels: { ...args.labels },
    };
    const child = { parent: this };

    const rule = prometheusRuleObject(spec, options);
    const groups = (rule.spec as { groups: { rules: { alert?: string; record?: string }[] }[] }).groups;
    const rules = groups.flatMap((group) => group.rules);
    this.alertNames = [...new Set(rules.flatMap((r) => (r.alert === undefined ? [] : [r.alert])))].sort();
    this.recordNames = [...new Set(rules.flatMap((r) => (r.record === undefined ? [] : [r.record])))].sort();
    new k8s.apiextensions.CustomResource(`${name}-rules`, customResourceArgs(rule), child);

    const alertmanager = alertmanagerConfigObject(spec, {
      ...options,
      ...(args.webhookUrl === undefined ? {} : { webhookUrl: args.webhookUrl }),
    });
    new k8s.apiextensions.CustomResource(`${name}-alertmanager`, customResourceArgs(alertmanager), child);

    const dashboard = dashboardConfigMapObject(spec, {
      ...options,
      ...(args.dashboardFolder === undefined ? {} : { folder: args.dashboardFolder }),
    });
    new k8s.core.v1.ConfigMap(
      `${name}-dashboard`,
      {
        metadata: dashboard.metadata,
        data: dashboard.data as Record<string, string>,
      },
      child,
    );
    this.dashboardUid = dashboardUid(spec.name);
    this.registerOutputs({
      dashboardUid: this.dashboardUid,
      alertNames: this.alertNames,
      recordNames: this.recordNames,
    });
  }
}

/** A plain object as `CustomResource` args (apiVersion, kind, metadata and the rest as-is). */
function customResourceArgs(object: KubernetesObject): k8s.apiextensions.CustomResourceArgs {
  return { ...object, metadata: object.metadata };
}
