/**
 * Where the router runs, as plain Kubernetes data: its own Deployment with a Service, or a sidecar
 * injected into the application's Deployment; the admin Service the Alertmanager webhook targets;
 * and Redis as a StatefulSet with a headless Service when the assignments are shared.
 */
import { ROUTER_ADMIN_PORT } from "../../monitoring/config.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import {
  type Json,
  ROUTER_CONTAINER,
  ROUTER_PROXY_PORT,
  type RouterContainerOptions,
  routerContainer,
  routerLabels,
  routerVolumes,
  SPEC_HASH_ANNOTATION,
} from "./router-container.ts";
import { DEFAULT_ROUTER_REPLICAS } from "./router-replicas.ts";

/** Redis image for the in-cluster assignment store. Pinned. */
export const DEFAULT_REDIS_IMAGE = "redis:7.4.1-alpine";
export const REDIS_PORT = 6379;

/** Name of the router's proxy Service (standalone) and the prefix of its other objects. */
export function routerName(spec: Pick<ExperimentSpec, "name">): string {
  return `${spec.name}-router`;
}

/** Name of the Service in front of the admin port: what `routerWebhookUrl` points to. */
export function routerAdminServiceName(spec: Pick<ExperimentSpec, "name">): string {
  return `${spec.name}-router-admin`;
}

/** Name of the Redis StatefulSet and its headless Service. */
export function redisName(spec: Pick<ExperimentSpec, "name">): string {
  return `${spec.name}-redis`;
}

/** URL of the in-cluster Redis, by its fully qualified Service name (pod 0 of the StatefulSet). */
export function inClusterRedisUrl(spec: Pick<ExperimentSpec, "name">, namespace: string): string {
  return `redis://${redisName(spec)}.${namespace}.svc.cluster.local:${REDIS_PORT}`;
}

/** Labels selecting the standalone router's pods. */
export function routerPodSelector(spec: Pick<ExperimentSpec, "name">): Record<string, string> {
  return { "app.kubernetes.io/name": "llm-ab-router", "llm-ab/experiment": spec.name };
}

export interface StandaloneOptions extends RouterContainerOptions {
  /** Router replicas. Default 2 (more than one needs the redis store). */
  readonly replicas?: number;
  /** sha256 of the spec ConfigMap, set on the pod template so a spec change rolls the pods. */
  readonly specHash: string;
}

/** The standalone router Deployment. */
export function standaloneDeployment(spec: ExperimentSpec, options: StandaloneOptions): Json {
  const labels = routerLabels(spec);
  const selector = {
    "app.kubernetes.io/name": labels["app.kubernetes.io/name"],
    "llm-ab/experiment": spec.name,
  };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: routerName(spec), namespace: options.namespace, labels },
    spec: {
      replicas: options.replicas ?? DEFAULT_ROUTER_REPLICAS,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels, annotations: { [SPEC_HASH_ANNOTATION]: options.specHash } },
        spec: {
          // Above the router's 25 s drain, so in-flight streams finish on a rollout.
          terminationGracePeriodSeconds: 30,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 },
          containers: [routerContainer(spec, options)],
          volumes: routerVolumes(spec),
        },
      },
    },
  };
}

/** A ClusterIP Service named `name` sending `port` to the pods matched by `selector`. */
export function serviceObject(
  name: string,
  namespace: string,
  labels: Record<string, string>,
  selector: Record<string, string>,
  port: { name: string; port: number },
): Json {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, labels },
    spec: {
      type: "ClusterIP",
      selector,
      ports: [{ name: port.name, port: port.port, targetPort: port.name, protocol: "TCP" }],
    },
  };
}

/** The proxy Service of the standalone router. */
export function proxyService(spec: ExperimentSpec, namespace: string): Json {
  return serviceObject(routerName(spec), namespace, routerLabels(spec), routerPodSelector(spec), {
    name: "proxy",
    port: ROUTER_PROXY_PORT,
  });
}

/** The admin Service: the router's pods, or the application's pods when it runs as a sidecar. */
export function adminService(
  spec: ExperimentSpec,
  namespace: string,
  selector: Record<string, string>,
): Json {
  return serviceObject(routerAdminServiceName(spec), namespace, routerLabels(spec), selector, {
    name: "admin",
    port: ROUTER_ADMIN_PORT,
  });
}

/**
 * A PodMonitor scraping the router's `/metrics` on its admin port: the series every rule and
 * dashboard panel of the experiment reads. `selector` picks the router's pods (or the
 * application's, with the router as a sidecar).
 */
export function routerPodMonitor(
  spec: ExperimentSpec,
  namespace: string,
  selector: Record<string, string>,
  extraLabels: Readonly<Record<string, string>> = {},
): Json {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
    metadata: { name: routerName(spec), namespace, labels: { ...routerLabels(spec), ...extraLabels } },
    spec: {
      selector: { matchLabels: selector },
      podMetricsEndpoints: [{ port: "admin", path: "/metrics", interval: "15s" }],
    },
  };
}

/** The Redis StatefulSet (one replica, append-only file on a persistent volume) and its Service. */
export function redisObjects(
  spec: ExperimentSpec,
  namespace: string,
  options: { image?: string; storage?: string } = {},
): Json[] {
  const name = redisName(spec);
  const labels = { ...routerLabels(spec), "app.kubernetes.io/component": "assignment-store" };
  const selector = { "app.kubernetes.io/component": "assignment-store", "llm-ab/experiment": spec.name };
  return [
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name, namespace, labels },
      spec: {
        serviceName: name,
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: "redis",
                image: options.image ?? DEFAULT_REDIS_IMAGE,
                // Assignments must survive a restart: a unit re-randomized mid-run biases the test.
                args: ["--appendonly", "yes", "--save", "60", "1"],
                ports: [{ name: "redis", containerPort: REDIS_PORT, protocol: "TCP" }],
                readinessProbe: { exec: { command: ["redis-cli", "ping"] }, periodSeconds: 5 },
                resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
                volumeMounts: [{ name: "data", mountPath: "/data" }],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "data" },
            spec: {
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: options.storage ?? "5Gi" } },
            },
          },
        ],
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace, labels },
      spec: {
        clusterIP: "None",
        selector,
        ports: [{ name: "redis", port: REDIS_PORT, targetPort: "redis", protocol: "TCP" }],
      },
    },
  ];
}

/** What a sidecar adds to an application's pod template. */
export interface RouterSidecar {
  readonly container: Json;
  readonly volumes: Json[];
  readonly annotations: Record<string, string>;
}

/** The router as a sidecar: its container, its volumes and the spec-hash pod annotation. */
export function routerSidecar(spec: ExperimentSpec, options: RouterContainerOptions & { specHash: string }) {
  return {
    container: routerContainer(spec, options),
    volumes: routerVolumes(spec),
    annotations: { [SPEC_HASH_ANNOTATION]: options.specHash },
  } satisfies RouterSidecar;
}

function record(value: unknown): Json {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * `deployment` (a Deployment's fields: `{ metadata, spec }`) with the sidecar in its pod template:
 * the router container (replacing one already there, so applying twice is harmless), its volumes
 * and the spec-hash annotation. Returns a copy; the input is not modified.
 */
export function injectRouterSidecar<T extends Json>(deployment: T, sidecar: RouterSidecar): T {
  const spec = record(deployment.spec);
  const template = record(spec.template);
  const metadata = record(template.metadata);
  const pod = record(template.spec);
  const volumeNames = new Set(sidecar.volumes.map((volume) => volume.name));
  const containers = list(pod.containers).filter((c) => record(c).name !== ROUTER_CONTAINER);
  const volumes = list(pod.volumes).filter((v) => !volumeNames.has(record(v).name));
  return {
    ...deployment,
    spec: {
      ...spec,
      template: {
        ...template,
        metadata: { ...metadata, annotations: { ...record(metadata.annotations), ...sidecar.annotations } },
        spec: {
          ...pod,
          containers: [...containers, sidecar.container],
          volumes: [...volumes, ...sidecar.volumes],
        },
      },
    },
  };
}
