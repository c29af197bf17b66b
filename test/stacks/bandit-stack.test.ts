import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderStackObjects } from "../../cli/render.ts";
import { SRM_ALERT } from "../../monitoring/srm-rules.ts";
import { loadSpecFile, parseSpec } from "../../spec/load.ts";
import { validateK8sObject } from "../helpers/k8s-validate.ts";
import {
  dashboardOf,
  failure,
  type K8sObject,
  meta,
  only,
  projectWith,
  routerSpecOf,
} from "./stack-objects.ts";

const PROJECT = process.cwd();
const EXAMPLE = "examples/support-bot-prompt-bandit.yaml";

/** Every panel of a dashboard, rows and the panels they hold included. */
function panels(dashboard: { panels?: unknown[] }): { type?: string; title?: string }[] {
  return (dashboard.panels ?? []).flatMap((panel) => {
    const p = panel as { type?: string; title?: string; panels?: unknown[] };
    return [p, ...panels(p)];
  });
}

describe("the prompt-bandit stack", () => {
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = await renderStackObjects("prompt-bandit", PROJECT);
  });

  it("emits only Kubernetes objects that validate against the official schemas", () => {
    expect(objects.length).toBeGreaterThan(10);
    for (const object of objects) validateK8sObject(object);
  });

  it("runs two router replicas", () => {
    const router = only(objects, "Deployment", (name) => name === "support-bot-prompt-bandit-router");
    expect((router.spec as { replicas: number }).replicas).toBe(2);
  });

  it("points the routers at the Redis it deploys, not at the spec's out-of-stack URL", () => {
    const statefulSet = only(objects, "StatefulSet", (name) => name.endsWith("-redis"));
    const service = only(objects, "Service", (name) => name === meta(statefulSet).name);
    const set = statefulSet.spec as {
      serviceName: string;
      template: { metadata: { labels: Record<string, string> } };
    };
    const svc = service.spec as {
      clusterIP?: string;
      selector: Record<string, string>;
      ports: { port: number }[];
    };
    // The headless Service governs the StatefulSet, so its name resolves to the Redis pod.
    expect(svc.clusterIP).toBe("None");
    expect(set.serviceName).toBe(meta(service).name);
    expect(set.template.metadata.labels).toMatchObject(svc.selector);
    const deployed = `redis://${meta(service).name}.${meta(service).namespace}.svc.cluster.local:${svc.ports[0]?.port}`;

    const routerSpec = routerSpecOf(objects);
    expect(routerSpec.router).toMatchObject({ store: "redis", redisUrl: deployed });
    expect(deployed).toBe("redis://support-bot-prompt-bandit-redis.support.svc.cluster.local:6379");
  });

  it("gives the routers a spec they parse back to the example's bandit, the Redis URL aside", async () => {
    const example = await loadSpecFile(EXAMPLE);
    const routerSpec = parseSpec(routerSpecOf(objects), "the router's spec.json");
    expect(routerSpec.rollout).toEqual(example.rollout);
    expect(routerSpec).toEqual({
      ...example,
      router: { ...example.router, redisUrl: routerSpec.router.redisUrl },
    });
    expect(routerSpec.router.redisUrl).not.toBe(example.router.redisUrl);
  });

  it("renders no sample-ratio rules, since the bandit moves the split on purpose", () => {
    const rule = only(objects, "PrometheusRule");
    const rules = (
      rule.spec as { groups: { rules: { alert?: string; record?: string }[] }[] }
    ).groups.flatMap((group) => group.rules);
    expect(rules.some((r) => r.alert === "LlmAbGuardrailErrorRate")).toBe(true);
    expect(rules.filter((r) => r.alert === SRM_ALERT || /srm|share_increase/.test(r.record ?? ""))).toEqual(
      [],
    );
  });

  it("has the Bandit row on its dashboard, and every arm in the variant picker", () => {
    const dashboard = dashboardOf(objects);
    const rows = panels(dashboard).filter((p) => p.type === "row");
    expect(rows.map((p) => p.title)).toContain("Bandit");
    expect(JSON.stringify(dashboard.templating)).toContain("control,cite-and-name,cite-policy,steps-first");
  });
});

describe("a bandit on the memory store", () => {
  let memorySpec: Record<string, unknown>;
  beforeAll(async () => {
    const example = parse(await readFile(join(PROJECT, EXAMPLE), "utf8")) as Record<string, unknown>;
    memorySpec = { ...example, router: { store: "memory" } };
  });

  it.each([
    ["two router replicas", { kind: "standalone", replicas: 2 }, "got 2:"],
    ["the standalone default", { kind: "standalone" }, "got 2 (the default):"],
  ])(
    "is refused with %s, naming the config field and the spec's mode and store",
    async (_case, placement, got) => {
      const dir = await projectWith({ "llm-ab:spec": memorySpec, "llm-ab:router": { placement } });
      const message = await failure(dir);
      expect(message).toContain(
        "router.placement.replicas: must be 1 while the bandit runs on the memory store",
      );
      expect(message).toContain(`${got} spec.rollout.mode is bandit and spec.router.store is memory`);
      expect(message).toContain("allocate differently");
      expect(message).toContain(
        "Set spec.router.store: redis with spec.router.redisUrl (or router.redis: statefulset",
      );
    },
  );

  it("deploys one router when the stack config names no placement", async () => {
    const objects = await renderStackObjects("t", await projectWith({ "llm-ab:spec": memorySpec }));
    for (const object of objects) validateK8sObject(object);
    const router = only(objects, "Deployment", (name) => name.endsWith("-router"));
    expect((router.spec as { replicas: number }).replicas).toBe(1);
    expect(objects.some((o) => o.kind === "StatefulSet")).toBe(false);
  });
});
