/**
 * `ExperimentRouter`: the llm-ab router in Kubernetes, either as its own Deployment behind a
 * Service, or as a sidecar injected into the application's Deployment. The spec travels in a
 * ConfigMap whose hash is a pod-template annotation (a spec change rolls the pods); the admin token
 * lives in a Secret mounted as a file; shared assignments go to Redis, in-cluster (a StatefulSet) or
 * external.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ROUTER_ADMIN_PORT } from "../monitoring/config.ts";
import { routerTokenSecret } from "../monitoring/objects.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import {
  type Json,
  ROUTER_PROXY_PORT,
  routerLabels,
  specConfigHash,
  specConfigMapData,
  specConfigMapName,
} from "./builders/router-container.ts";
import { banditStoreProblem, DEFAULT_ROUTER_REPLICAS } from "./builders/router-replicas.ts";
import {
  adminService,
  inClusterRedisUrl,
  injectRouterSidecar,
  proxyService,
  type RouterSidecar,
  redisObjects,
  routerAdminServiceName,
  routerName,
  routerPodMonitor,
  routerPodSelector,
  routerSidecar,
  standaloneDeployment,
} from "./builders/router-workload.ts";

/** Where the router runs. */
export type RouterPlacement =
  | {
      readonly kind: "standalone";
      /** Router replicas. Default 2; more than one requires `router.store: redis` in the spec. */
      readonly replicas?: number;
    }
  | {
      readonly kind: "sidecar";
      /**
       * Name (`metadata.name` or Pulumi resource name) of the application Deployment to inject into.
       * Each of its pods runs a router: with a bandit on the memory store, the injection refuses a
       * Deployment whose `spec.replicas` is above 1 (unset counts as Kubernetes' default of 1; an
       * autoscaler on the application is not visible here, so give such an application Redis).
       */
      readonly deployment: string;
      /** Labels of the application's pods, for the admin Service the Alertmanager webhook targets. */
      readonly podSelector: Readonly<Record<string, string>>;
    };

export interface ExperimentRouterArgs {
  /**
   * The parsed experiment spec. Plain data, not an Input: names, the ConfigMap and its hash are
   * derived from it at preview time, so config errors surface before anything is applied.
   */
  readonly spec: ExperimentSpec;
  /** Namespace of every object. Plain, since it is part of DNS names baked into the spec. Default "llm-ab". */
  readonly namespace?: string;
  /** Standalone Deployment or sidecar. Default standalone with 2 replicas. */
  readonly placement?: RouterPlacement;
  /** Router image, pinned (plain: it is part of the injected sidecar). Default `DEFAULT_ROUTER_IMAGE`. */
  readonly image?: string;
  /**
   * The admin bearer token (mark it secret in stack config). It is written only to the
   * `<experiment>-router-admin-token` Secret. Default: none; the Secret must then exist already.
   */
  readonly adminToken?: pulumi.Input<string>;
  /**
   * With `router.store: redis`: `statefulset` deploys Redis in the namespace and points the
   * router at it, `external` uses the spec's `router.redisUrl`. Default external.
   */
  readonly redis?: "statefulset" | "external";
  /** Extra labels on the router's PodMonitor (e.g. the `release` a Prometheus selects). Default none. */
  readonly podMonitorLabels?: Readonly<Record<string, string>>;
}

/** The router, its Services, spec ConfigMap, token Secret and (optionally) Redis. */
export class ExperimentRouter extends pulumi.ComponentResource {
  /** URL the application sends OpenAI requests to. */
  public readonly address: pulumi.Output<string>;
  /** URL of the admin port (metrics, health, the Alertmanager webhook). */
  public readonly adminAddress: pulumi.Output<string>;
  /** sha256 of the spec ConfigMap, the pod-template annotation that rolls the pods. */
  public readonly specHash: string;
  /** The spec as the router reads it (redisUrl rewritten when Redis runs in-cluster). */
  public readonly routerSpec: ExperimentSpec;
  /** The sidecar pieces (container, volumes, annotation), for wiring by hand. Sidecar placement only. */
  public readonly sidecar: RouterSidecar | undefined;
  /**
   * A `transformations` resource option that injects the sidecar into the named Deployment and
   * leaves every other resource alone. Sidecar placement only.
   */
  public readonly sidecarTransformation: pulumi.ResourceTransformation | undefined;

  constructor(name: string, args: ExperimentRouterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-ab:components:ExperimentRouter", name, {}, opts);
    const namespace = args.namespace ?? "llm-ab";
    const placement = args.placement ?? { kind: "standalone" };
    const spec = routerSpecFor(args.spec, namespace, args.redis ?? "external", placement);
    this.routerSpec = spec;
    const child = { parent: this };
    const labels = routerLabels(spec);

    const data = specConfigMapData(spec);
    this.specHash = specConfigHash(data);
    new k8s.core.v1.ConfigMap(
      `${name}-spec`,
      { metadata: { name: specConfigMapName(spec), namespace, labels }, data },
      child,
    );

    if (args.adminToken !== undefined) {
      const token = routerTokenSecret(spec);
      new k8s.core.v1.Secret(
        `${name}-admin-token`,
        {
          metadata: { name: token.name, namespace, labels },
          type: "Opaque",
          stringData: { [token.key]: pulumi.secret(args.adminToken) },
        },
        child,
      );
    }

    if (spec.router.store === "redis" && (args.redis ?? "external") === "statefulset") {
      const [statefulSet, service] = redisObjects(spec, namespace) as [Json, Json];
      new k8s.apps.v1.StatefulSet(`${name}-redis`, withoutTypeFields(statefulSet), child);
      new k8s.core.v1.Service(`${name}-redis-service`, withoutTypeFields(service), child);
    }

    const imageOption = args.image === undefined ? {} : { image: args.image };
    if (placement.kind === "standalone") {
      const deployment = standaloneDeployment(spec, {
        namespace,
        specHash: this.specHash,
        ...imageOption,
        ...(placement.replicas === undefined ? {} : { replicas: placement.replicas }),
      });
      new k8s.apps.v1.Deployment(`${name}-deployment`, withoutTypeFields(deployment), child);
      new k8s.core.v1.Service(`${name}-service`, withoutTypeFields(proxyService(spec, namespace)), child);
      this.address = pulumi.output(
        `http://${routerName(spec)}.${namespace}.svc.cluster.local:${ROUTER_PROXY_PORT}`,
      );
      this.sidecar = undefined;
      this.sidecarTransformation = undefined;
    } else {
      const sidecar = routerSidecar(spec, { namespace, specHash: this.specHash, ...imageOption });
      this.address = pulumi.output(`http://127.0.0.1:${ROUTER_PROXY_PORT}`);
      this.sidecar = sidecar;
      this.sidecarTransformation = sidecarTransformation(spec, placement.deployment, sidecar);
    }

    // The pods the router runs in: its own, or the application's with the sidecar.
    const podSelector =
      placement.kind === "standalone" ? routerPodSelector(spec) : { ...placement.podSelector };
    new k8s.core.v1.Service(
      `${name}-admin-service`,
      withoutTypeFields(adminService(spec, namespace, podSelector)),
      child,
    );
    const podMonitor = routerPodMonitor(spec, namespace, podSelector, args.podMonitorLabels);
    new k8s.apiextensions.CustomResource(
      `${name}-pod-monitor`,
      podMonitor as k8s.apiextensions.CustomResourceArgs,
      child,
    );
    this.adminAddress = pulumi.output(
      `http://${routerAdminServiceName(spec)}.${namespace}.svc.cluster.local:${ROUTER_ADMIN_PORT}`,
    );
    this.registerOutputs({ address: this.address, adminAddress: this.adminAddress, specHash: this.specHash });
  }
}

/** The object without `apiVersion`/`kind`, which the typed `@pulumi/kubernetes` classes set. */
function withoutTypeFields<T>(object: Json): T {
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = object;
  // The builders produce the same fields the typed args describe, as plain data.
  return rest as T;
}

/**
 * The spec the router reads, after checking the placement against it: several router processes
 * must share assignments through Redis, and an in-cluster Redis replaces the spec's URL.
 */
function routerSpecFor(
  spec: ExperimentSpec,
  namespace: string,
  redis: "statefulset" | "external",
  placement: RouterPlacement,
): ExperimentSpec {
  const replicas = placement.kind === "standalone" ? (placement.replicas ?? DEFAULT_ROUTER_REPLICAS) : 1;
  const bandit = banditStoreProblem(
    spec,
    {
      count: replicas,
      field: "placement.replicas",
      unit: "router replica",
    },
    { redis: "redis" },
  );
  if (bandit !== undefined) throw new pulumi.InputPropertyError(bandit);
  if (replicas > 1 && spec.router.store !== "redis") {
    throw new pulumi.InputPropertyError({
      propertyPath: "router.store",
      reason: `must be "redis" with ${replicas} router replicas: each process would otherwise assign units on its own`,
    });
  }
  if (redis === "statefulset" && spec.router.store !== "redis") {
    throw new pulumi.InputPropertyError({
      propertyPath: "router.store",
      reason: 'must be "redis" when the component deploys Redis (redis: "statefulset")',
    });
  }
  if (redis === "statefulset") {
    return { ...spec, router: { ...spec.router, redisUrl: inClusterRedisUrl(spec, namespace) } };
  }
  return spec;
}

/**
 * A transformation injecting `sidecar` into the Deployment named `target`, whatever its inputs hold,
 * after checking that its pods (one router each) can share the experiment's store.
 */
function sidecarTransformation(
  experiment: ExperimentSpec,
  target: string,
  sidecar: RouterSidecar,
): pulumi.ResourceTransformation {
  const check = (replicas: unknown): void => {
    const problem = banditStoreProblem(
      experiment,
      {
        // Kubernetes runs one pod when `replicas` is unset.
        count: typeof replicas === "number" ? replicas : 1,
        field: "spec.replicas",
        unit: "application pod",
        detail: `(spec.replicas of Deployment ${target}, one router sidecar per pod)`,
      },
      // Here `spec.` is the application Deployment's; the experiment spec's fields go unprefixed.
      { spec: "", redis: "the router component's redis" },
    );
    if (problem !== undefined) throw new pulumi.InputPropertyError(problem);
  };
  return (args) => {
    if (args.type !== "kubernetes:apps/v1:Deployment") return undefined;
    const metadataName = (args.props.metadata as { name?: unknown } | undefined)?.name;
    if (args.name !== target && metadataName !== target) return undefined;
    // A plain count fails right where the application's Deployment is declared; one known only at
    // deployment time (an Output) fails its registration below.
    const plain = (args.props.spec as { replicas?: unknown } | undefined)?.replicas;
    if (typeof plain === "number") check(plain);
    // The template may hold Outputs; unwrap them all, then inject into plain data.
    const spec = pulumi.output(args.props.spec as pulumi.Input<Json>).apply((value) => {
      check(value.replicas);
      return injectRouterSidecar({ spec: value }, sidecar).spec as Json;
    });
    return { props: { ...args.props, spec }, opts: args.opts };
  };
}
