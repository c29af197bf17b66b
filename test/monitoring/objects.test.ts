import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { matcherText, renderAlertmanager } from "../../monitoring/alertmanager.ts";
import { defaultTokenFile } from "../../monitoring/config.ts";
import { dashboardJson } from "../../monitoring/dashboard.ts";
import {
  alertmanagerConfigObject,
  dashboardConfigMapObject,
  prometheusRuleObject,
  routerTokenSecret,
} from "../../monitoring/objects.ts";
import { renderRules } from "../../monitoring/rules.ts";
import { parseSpec } from "../../spec/load.ts";
import { checkRules } from "../helpers/promtool.ts";
import { exampleInput } from "../spec/spec-fixtures.ts";

const promptDuel = () => parseSpec(exampleInput("promptDuel"));
const modelSwap = () => parseSpec(exampleInput("modelSwap"));
const namespace = "support";

type Json = Record<string, unknown>;

describe("the PrometheusRule", () => {
  it("carries the rendered rule groups under spec, with the experiment's labels", () => {
    const rule = prometheusRuleObject(promptDuel(), {
      namespace,
      labels: { release: "kube-prometheus-stack" },
    });
    expect(rule).toMatchObject({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: {
        name: "llm-ab-support-bot-policy-prompt",
        namespace,
        labels: { release: "kube-prometheus-stack", "llm-ab/experiment": "support-bot-policy-prompt" },
      },
    });
    const groups = (rule.spec as { groups: { name: string; rules: Json[] }[] }).groups;
    const expected = renderRules(promptDuel()).groups;
    expect(groups.map((group) => group.name)).toEqual(expected.map((group) => group.name));
    expect(groups.flatMap((group) => group.rules.map((each) => each.record ?? each.alert))).toEqual(
      expected.flatMap((group) => group.rules.map((each) => ("record" in each ? each.record : each.alert))),
    );
  });

  it("labels every alert with its namespace, which an AlertmanagerConfig's routes require", () => {
    const groups = (prometheusRuleObject(modelSwap(), { namespace }).spec as { groups: { rules: Json[] }[] })
      .groups;
    const alerts = groups.flatMap((group) => group.rules.filter((rule) => "alert" in rule));
    expect(alerts.length).toBeGreaterThan(6);
    for (const alert of alerts)
      expect(alert.labels).toMatchObject({ namespace, experiment: "support-bot-model-swap-70b" });
    const records = groups.flatMap((group) => group.rules.filter((rule) => "record" in rule));
    for (const record of records) expect(record).not.toHaveProperty("labels");
  });

  it.each(["production", "local"] as const)("passes promtool check rules (%s profile)", (profile) => {
    for (const spec of [promptDuel(), modelSwap()]) {
      const rule = prometheusRuleObject(spec, { namespace, profile });
      const run = checkRules({ "rules.yaml": stringify(rule.spec) });
      expect(run.ok, run.output).toBe(true);
    }
  });

  it("is the same object, key order included, every time", () => {
    const once = JSON.stringify(prometheusRuleObject(modelSwap(), { namespace }));
    expect(JSON.stringify(prometheusRuleObject(modelSwap(), { namespace }))).toBe(once);
  });
});

describe("the AlertmanagerConfig", () => {
  const config = (options: Partial<Parameters<typeof alertmanagerConfigObject>[1]> = {}) =>
    alertmanagerConfigObject(promptDuel(), { namespace, ...options }) as unknown as {
      apiVersion: string;
      kind: string;
      spec: {
        route: Json & {
          routes: { receiver: string; matchers: { name: string; matchType: string; value: string }[] }[];
        };
        receivers: Json[];
      };
    };

  it("routes like the Alertmanager file: pause and rollback to the router, review to the review receiver, grouped by experiment", () => {
    const object = config();
    expect(object.apiVersion).toBe("monitoring.coreos.com/v1alpha1");
    expect(object.kind).toBe("AlertmanagerConfig");
    const file = renderAlertmanager(promptDuel()) as {
      route: Json & { routes: { receiver: string; matchers: string[] }[] };
    };
    const { route } = object.spec;
    expect(route.receiver).toBe(file.route.receiver);
    expect(route.groupBy).toEqual(["experiment"]);
    expect([route.groupWait, route.groupInterval, route.repeatInterval]).toEqual([
      file.route.group_wait,
      file.route.group_interval,
      file.route.repeat_interval,
    ]);
    expect(
      route.routes.map((each) => ({
        receiver: each.receiver,
        matchers: each.matchers.map((m) => matcherText({ ...m, matchType: m.matchType as "=" })),
      })),
    ).toEqual(file.route.routes);
    expect(route.routes[0]?.matchers).toEqual([
      { name: "experiment", matchType: "=", value: "support-bot-policy-prompt" },
      { name: "action", matchType: "=~", value: "pause|rollback" },
    ]);
  });

  it("calls the router's webhook by its namespaced Service, with the bearer token taken from the Secret", () => {
    const router = config().spec.receivers[0];
    expect(router).toEqual({
      name: "llm-ab-support-bot-policy-prompt-router",
      webhookConfigs: [
        {
          url: "http://support-bot-policy-prompt-router-admin.support.svc:8081/alertmanager",
          sendResolved: false,
          httpConfig: {
            authorization: {
              type: "Bearer",
              credentials: { name: "support-bot-policy-prompt-router-admin-token", key: "token" },
            },
          },
        },
      ],
    });
  });

  it("never carries a token or a token file, only the Secret reference", () => {
    const text = JSON.stringify(config({ tokenSecret: { name: "admin", key: "bearer" } }));
    expect(text).not.toContain("credentials_file");
    expect(text).not.toContain("credentialsFile");
    expect(text).toContain('"credentials":{"key":"bearer","name":"admin"}');
  });

  it("names the same Secret the file-based Alertmanager mounts by default", () => {
    const secret = routerTokenSecret(promptDuel());
    expect(defaultTokenFile(promptDuel(), "production")).toBe(
      `/etc/alertmanager/secrets/${secret.name}/${secret.key}`,
    );
  });

  it("passes a review receiver given in AlertmanagerConfig form through unchanged, and routes review alerts to it", () => {
    const chat = {
      name: "team-chat",
      slackConfigs: [{ apiURL: { name: "slack", key: "url" }, channel: "#llm-ab" }],
    };
    const object = config({ reviewReceiver: chat });
    expect(object.spec.route.receiver).toBe("team-chat");
    expect(object.spec.route.routes[1]?.receiver).toBe("team-chat");
    expect(object.spec.receivers).toContainEqual(chat);
    expect(object.spec.receivers.map((receiver) => receiver.name)).toEqual([
      "llm-ab-support-bot-policy-prompt-router",
      "team-chat",
    ]);
  });

  it("uses the local profile's notification timings when asked", () => {
    expect(config({ profile: "local" }).spec.route).toMatchObject({ groupWait: "1s", groupInterval: "2s" });
  });
});

describe("the dashboard ConfigMap", () => {
  it('holds the dashboard JSON byte for byte under <uid>.json, labelled grafana_dashboard: "1"', () => {
    const map = dashboardConfigMapObject(modelSwap(), { namespace, folder: "Experiments" });
    expect(map).toMatchObject({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "llm-ab-support-bot-model-swap-70b",
        namespace,
        labels: { grafana_dashboard: "1" },
        annotations: { grafana_folder: "Experiments" },
      },
    });
    expect(map.data).toEqual({ "llm-ab-support-bot-model-swap-70b.json": dashboardJson(modelSwap()) });
  });

  it("renders the local profile's dashboard when asked, and has no annotations without a folder", () => {
    const map = dashboardConfigMapObject(promptDuel(), { namespace, profile: "local" });
    expect(map.metadata.annotations).toBeUndefined();
    expect(Object.values(map.data as Json)).toEqual([dashboardJson(promptDuel(), { profile: "local" })]);
  });
});
