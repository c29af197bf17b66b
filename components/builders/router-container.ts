/**
 * The router's pod pieces as plain Kubernetes data: its container, the volumes it mounts (the spec
 * ConfigMap and the admin-token Secret), the spec ConfigMap itself and the annotation that rolls the
 * pods when the spec changes. Pure, so they are tested without Pulumi mocks; `ExperimentRouter`
 * hands them to `@pulumi/kubernetes`.
 */
import { createHash } from "node:crypto";
import { ROUTER_ADMIN_PORT } from "../../monitoring/config.ts";
import { routerTokenSecret } from "../../monitoring/objects.ts";
import { canonicalJson } from "../../spec/canonical-json.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { VLLM_PORT } from "./vllm-container.ts";

/** The proxy port the application talks to (the router's `--port` default). */
export const ROUTER_PROXY_PORT = 8080;
/** Where the spec ConfigMap is mounted; a directory mount, so the kubelet's live updates reach it. */
export const SPEC_DIR = "/etc/llm-ab";
/** The spec file's key in the ConfigMap (JSON, which `loadSpecFile` reads by extension). */
export const SPEC_FILE = "spec.json";
/** Where the admin-token Secret is mounted. */
export const TOKEN_DIR = "/var/run/secrets/llm-ab";
/** The pod-template annotation carrying the spec's hash: a spec change rolls the pods. */
export const SPEC_HASH_ANNOTATION = "llm-ab/spec-sha256";
/** Name of the router container, in its own Deployment or as a sidecar. */
export const ROUTER_CONTAINER = "llm-ab-router";

/**
 * Default router image: the name `router/Dockerfile` is built under, pinned to this package's
 * version (a moving tag could change the router mid-experiment). Push it to your registry and pass
 * the full reference as `image` (stack config `llm-ab:router` → `image`).
 */
export const DEFAULT_ROUTER_IMAGE = "llm-ab-router:0.1.0";

/** A plain object keyed by string. */
export type Json = Record<string, unknown>;

export interface RouterContainerOptions {
  /** Namespace of the experiment, for the replica DNS template. */
  readonly namespace: string;
  /** Router image. Default {@link DEFAULT_ROUTER_IMAGE}. */
  readonly image?: string;
  /** CPU/memory requests and limits. Default 100m/128Mi requests, 512Mi memory limit. */
  readonly resources?: Json;
}

/** Labels every router object carries. */
export function routerLabels(spec: Pick<ExperimentSpec, "name">): Record<string, string> {
  return {
    "app.kubernetes.io/component": "router",
    "app.kubernetes.io/managed-by": "llm-ab",
    "app.kubernetes.io/name": "llm-ab-router",
    "app.kubernetes.io/part-of": "llm-ab",
    "llm-ab/experiment": spec.name,
  };
}

/** Name of the spec ConfigMap: `<experiment>-router-spec`. */
export function specConfigMapName(spec: Pick<ExperimentSpec, "name">): string {
  return `${spec.name}-router-spec`;
}

/**
 * The parsed spec as the in-cluster router reads it: every default spelled out, minus the fields
 * the parser derives and does not accept as input (a guardrail's `direction`; the bandit's
 * durations in seconds, and in mode bandit the treatment percent, which an author may not write
 * there), and minus each deployment's `endpoints`, which are for servers outside Kubernetes: they
 * would win over the headless-Service DNS of the replicas this stack deploys.
 */
export function specDocument(spec: ExperimentSpec): Json {
  const guardrails = spec.metrics.guardrails.map(({ direction: _direction, ...guardrail }) => guardrail);
  const deployments = Object.fromEntries(
    Object.entries(spec.deployments).map(([key, { endpoints: _endpoints, ...deployment }]) => [
      key,
      deployment,
    ]),
  );
  return {
    ...spec,
    rollout: rolloutDocument(spec.rollout),
    deployments,
    metrics: { ...spec.metrics, guardrails },
  };
}

/** The rollout as an author writes it: without what the parser derives in mode bandit. */
function rolloutDocument(rollout: ExperimentSpec["rollout"]): Json {
  const { bandit, treatmentPercent, ...rest } = rollout;
  if (bandit === undefined) return { ...rest, treatmentPercent };
  const { maxUpdateIntervalSeconds: _interval, rewardWindowSeconds: _window, ...settings } = bandit;
  return { ...rest, bandit: settings };
}

/** The ConfigMap's data: the spec document as canonical JSON, so equal specs give equal text. */
export function specConfigMapData(spec: ExperimentSpec): Record<string, string> {
  return { [SPEC_FILE]: `${canonicalJson(specDocument(spec))}\n` };
}

/** sha256 (hex) of the ConfigMap data, for {@link SPEC_HASH_ANNOTATION}. */
export function specConfigHash(data: Record<string, string>): string {
  return createHash("sha256").update(canonicalJson(data)).digest("hex");
}

/** The spec ConfigMap object. */
export function specConfigMapObject(spec: ExperimentSpec, namespace: string): Json {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: specConfigMapName(spec), namespace, labels: routerLabels(spec) },
    data: specConfigMapData(spec),
  };
}

/**
 * `LLM_AB_REPLICA_DNS`: the headless Service of each deployment, where the router discovers the
 * vLLM replicas (`{deployment}` is filled per deployment by the router).
 */
export function replicaDnsTemplate(spec: Pick<ExperimentSpec, "name">, namespace: string): string {
  return `${spec.name}-{deployment}.${namespace}.svc.cluster.local:${VLLM_PORT}`;
}

/** The volumes the router container mounts: the spec ConfigMap and the token Secret. */
export function routerVolumes(spec: ExperimentSpec): Json[] {
  const token = routerTokenSecret(spec);
  return [
    { name: "llm-ab-spec", configMap: { name: specConfigMapName(spec) } },
    {
      name: "llm-ab-admin-token",
      secret: { secretName: token.name, items: [{ key: token.key, path: token.key }] },
    },
  ];
}

/**
 * The router container: proxy on 8080, admin (metrics, health, webhook) on 8081, the spec and the
 * token read from mounted files, so the token never appears as an env value or in a ConfigMap.
 */
export function routerContainer(spec: ExperimentSpec, options: RouterContainerOptions): Json {
  const token = routerTokenSecret(spec);
  return {
    name: ROUTER_CONTAINER,
    image: options.image ?? DEFAULT_ROUTER_IMAGE,
    args: [
      "--spec",
      `${SPEC_DIR}/${SPEC_FILE}`,
      "--host",
      "0.0.0.0",
      "--port",
      String(ROUTER_PROXY_PORT),
      "--admin-port",
      String(ROUTER_ADMIN_PORT),
      "--admin-token-file",
      `${TOKEN_DIR}/${token.key}`,
    ],
    env: [{ name: "LLM_AB_REPLICA_DNS", value: replicaDnsTemplate(spec, options.namespace) }],
    ports: [
      { name: "proxy", containerPort: ROUTER_PROXY_PORT, protocol: "TCP" },
      { name: "admin", containerPort: ROUTER_ADMIN_PORT, protocol: "TCP" },
    ],
    readinessProbe: { httpGet: { path: "/readyz", port: "admin" }, periodSeconds: 5 },
    livenessProbe: { httpGet: { path: "/healthz", port: "admin" }, periodSeconds: 10, failureThreshold: 3 },
    resources: options.resources ?? {
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { memory: "512Mi" },
    },
    // The image's USER is `node` by name; runAsNonRoot can only be verified with a numeric uid.
    securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 1000 },
    volumeMounts: [
      { name: "llm-ab-spec", mountPath: SPEC_DIR, readOnly: true },
      { name: "llm-ab-admin-token", mountPath: TOKEN_DIR, readOnly: true },
    ],
  };
}
