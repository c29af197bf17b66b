/** Helpers of the stack tests: stacks in throwaway projects, and picking objects out of a render. */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { renderStackObjects } from "../../cli/render.ts";

export type K8sObject = Record<string, unknown>;

export interface Metadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}

export function meta(object: K8sObject): Metadata {
  return object.metadata as Metadata;
}

/** The one object of `kind` whose name satisfies `named`; fails listing what there is. */
export function only(
  objects: readonly K8sObject[],
  kind: string,
  named: (name: string) => boolean = () => true,
): K8sObject {
  const hits = objects.filter((o) => o.kind === kind && named(meta(o).name));
  const [hit] = hits;
  if (hits.length !== 1 || hit === undefined) {
    const seen = objects.map((o) => `${String(o.kind)} ${meta(o).name}`).join(", ");
    throw new Error(`expected one ${kind}, found ${hits.length} among: ${seen}`);
  }
  return hit;
}

/** The parsed JSON of the one dashboard ConfigMap (label `grafana_dashboard: "1"`). */
export function dashboardOf(objects: readonly K8sObject[]): {
  panels?: unknown[];
  templating?: unknown;
} {
  const [configMap, ...more] = objects.filter(
    (o) => o.kind === "ConfigMap" && meta(o).labels?.grafana_dashboard === "1",
  );
  if (configMap === undefined || more.length > 0) throw new Error("expected one dashboard ConfigMap");
  const [json] = Object.values(configMap.data as Record<string, string>);
  return JSON.parse(json ?? "{}");
}

/** The spec document the router reads, from its spec ConfigMap. */
export function routerSpecOf(objects: readonly K8sObject[]): Record<string, unknown> {
  const configMap = only(objects, "ConfigMap", (name) => name.endsWith("-router-spec"));
  return JSON.parse((configMap.data as Record<string, string>)["spec.json"] ?? "{}");
}

/** A project directory holding one stack `t` with `config` (project-relative paths resolve there). */
export async function projectWith(config: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "llm-ab-stack-"));
  await mkdir(join(dir, "stacks"));
  await writeFile(join(dir, "stacks", "Pulumi.t.yaml"), stringify({ config }));
  return dir;
}

/** The error the stack `t` of `dir` fails with. */
export async function failure(dir: string): Promise<string> {
  try {
    await renderStackObjects("t", dir);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the stack to fail");
}
