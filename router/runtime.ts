/**
 * Everything the router derives from one spec: the assigner, the unit-id resolver, the replica set
 * of each deployment, the outcome fields. A reload builds a new one and swaps it in whole, so a
 * request sees one spec from start to end; the store, the state and the metrics outlive it.
 *
 * Replica sets whose deployment is unchanged (same endpoints or DNS name, same warm-up policy) are
 * carried over, so a reload does not relabel warm replicas cold.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { ExperimentSpec, Variant } from "../spec/schema.ts";
import { Assigner } from "./assigner.ts";
import { type Arms, armsOf, variantForBucket } from "./assignment.ts";
import type { Bandit } from "./bandit/bandit.ts";
import { bucketOf } from "./hash.ts";
import { type OutcomeFields, outcomeFields } from "./outcomes.ts";
import { type DnsResolver, type DnsTarget, ReplicaSet, replicaSourceFor } from "./replicas.ts";
import type { AssignmentStore, RouterCounters, StateRecord } from "./store/types.ts";
import type { Clock } from "./timing.ts";
import { type ResolvedUnit, type UnitIdResolver, unitIdResolver } from "./unit-id.ts";

/** Where a deployment's headless Service is, for deployments without `endpoints` (Kubernetes). */
export type ReplicaDns = (deployment: string) => DnsTarget | undefined;

/**
 * A {@link ReplicaDns} from a template `[http://|https://]host:port` where `{experiment}` and
 * `{deployment}` are replaced, e.g. `{experiment}-{deployment}.llm-ab.svc.cluster.local:8000`.
 * Throws an Error naming the template when it has no host or port.
 */
export function replicaDnsTemplate(template: string, experiment: string): ReplicaDns {
  const match = /^(?:(https?):\/\/)?([^/:]+):(\d+)\/?$/.exec(template.trim());
  if (match === null) {
    throw new Error(
      `replica DNS template ${JSON.stringify(template)} must look like {experiment}-{deployment}.<namespace>.svc:<port>`,
    );
  }
  const [, scheme, host = "", port = ""] = match;
  return (deployment) => ({
    hostname: host.replaceAll("{experiment}", experiment).replaceAll("{deployment}", deployment),
    port: Number(port),
    protocol: scheme === "https" ? "https:" : "http:",
  });
}

/** What building a runtime needs besides the spec. */
export interface RuntimeDeps {
  readonly store: AssignmentStore;
  readonly state: { current(): StateRecord };
  readonly counters: RouterCounters;
  /** Headless-Service names for deployments without endpoints. Default: none (endpoints required). */
  readonly replicaDns?: ReplicaDns;
  /** Clock for replica warm-up, seconds. Default `performance.now()`. */
  readonly now?: Clock;
  readonly resolver?: DnsResolver;
  /** Called when a DNS resolution fails (the last known replicas stay). */
  readonly onResolveError?: (deployment: string, error: Error) => void;
  /** Mode bandit: the bandit of this spec (the context keeps one per policy across reloads). */
  readonly banditFor?: (spec: ExperimentSpec, arms: Arms) => Promise<Bandit | undefined>;
}

/**
 * How an outcome's unit got its variant: its stored assignment, the hash at today's percent, or
 * (mode bandit, where no hash says it) none: `unassigned`, counted under control.
 */
export type OutcomeAssignment = "stored" | "hash" | "unassigned";

function sourceKey(spec: ExperimentSpec, name: string, dns: ReplicaDns | undefined): string {
  const deployment = spec.deployments[name];
  return JSON.stringify([deployment?.endpoints ?? dns?.(name), deployment?.warmup]);
}

/** One spec, ready to serve. */
export class SpecRuntime {
  readonly spec: ExperimentSpec;
  readonly assigner: Assigner;
  readonly arms: Arms;
  /** Mode bandit: the allocation units are drawn from and rewards feed. */
  readonly bandit: Bandit | undefined;
  /** Replica sets by deployment name (every deployment a variant uses). */
  readonly replicas: ReadonlyMap<string, ReplicaSet>;
  readonly outcomes: OutcomeFields;
  /** The `model` names the variants send, for `GET /v1/models`. */
  readonly models: readonly string[];
  private readonly store: AssignmentStore;
  private readonly resolveUnit: UnitIdResolver | undefined;
  private readonly sources: ReadonlyMap<string, string>;

  private constructor(
    spec: ExperimentSpec,
    deps: RuntimeDeps,
    replicas: Map<string, ReplicaSet>,
    sources: Map<string, string>,
    bandit: Bandit | undefined,
  ) {
    this.spec = spec;
    this.bandit = bandit;
    this.assigner = new Assigner({
      spec,
      store: deps.store,
      state: deps.state,
      counters: deps.counters,
      ...(bandit === undefined ? {} : { bandit }),
    });
    this.arms = this.assigner.arms;
    this.store = deps.store;
    this.replicas = replicas;
    this.sources = sources;
    this.outcomes = outcomeFields(spec);
    this.models = [...new Set(Object.values(spec.variants).map((variant) => variant.model))];
    // `request` units take the request id instead (see unitOf), so the app can report outcomes.
    this.resolveUnit = spec.unit === "request" ? undefined : unitIdResolver(spec);
  }

  /**
   * Builds the runtime of `spec`, reusing the replica sets of `previous` whose deployment did not
   * change, and starting the new ones (a first DNS resolution). Throws an Error naming the
   * deployment when one has neither endpoints nor a DNS name.
   */
  static async build(spec: ExperimentSpec, deps: RuntimeDeps, previous?: SpecRuntime): Promise<SpecRuntime> {
    const replicas = new Map<string, ReplicaSet>();
    const sources = new Map<string, string>();
    const fresh: ReplicaSet[] = [];
    for (const name of new Set(Object.values(spec.variants).map((variant) => variant.deployment))) {
      const key = sourceKey(spec, name, deps.replicaDns);
      sources.set(name, key);
      const kept = previous?.sources.get(name) === key ? previous.replicas.get(name) : undefined;
      if (kept !== undefined) {
        replicas.set(name, kept);
        continue;
      }
      const deployment = spec.deployments[name];
      if (deployment === undefined) throw new Error(`variant deployment ${name} is not in deployments`);
      const set = new ReplicaSet({
        deployment: name,
        source: replicaSourceFor(name, deployment, deps.replicaDns?.(name)),
        warmup: deployment.warmup,
        ...(deps.now === undefined ? {} : { now: deps.now }),
        ...(deps.resolver === undefined ? {} : { resolver: deps.resolver }),
        onResolveError: (error) => deps.onResolveError?.(name, error),
      });
      replicas.set(name, set);
      fresh.push(set);
    }
    await Promise.all(fresh.map((set) => set.start()));
    const bandit = spec.rollout.mode === "bandit" ? await deps.banditFor?.(spec, armsOf(spec)) : undefined;
    if (spec.rollout.mode === "bandit" && bandit === undefined) {
      throw new Error("rollout.mode is bandit but this router was built without a bandit store");
    }
    return new SpecRuntime(spec, deps, replicas, sources, bandit);
  }

  /** Stops the replica sets this runtime has and `next` does not (all of them without `next`). */
  retire(next?: SpecRuntime): void {
    const kept = new Set(next?.replicas.values());
    for (const set of this.replicas.values()) if (!kept.has(set)) set.stop();
  }

  /** The variant named `name` (a decision's variant is always one of the spec's). */
  variant(name: string): Variant {
    const variant = this.spec.variants[name];
    if (variant === undefined) throw new Error(`variant ${name} is not in the spec`);
    return variant;
  }

  /** The replica set serving `variant`. */
  replicasOf(variant: Variant): ReplicaSet {
    const set = this.replicas.get(variant.deployment);
    if (set === undefined) throw new Error(`deployment ${variant.deployment} has no replica set`);
    return set;
  }

  /** The request's unit: `request` units are the request id itself; others from the unit sources. */
  unitOf(headers: IncomingHttpHeaders, body: unknown, requestId: string): ResolvedUnit | undefined {
    if (this.resolveUnit === undefined) return { id: requestId, source: "request" };
    return this.resolveUnit({ headers, body });
  }

  /**
   * The variant a unit is assigned to, for an outcome: looked up, never stored. A unit the store
   * does not hold (evicted, a memory store after a restart, the shared store unreachable) gets
   * what the hash gives at the current percent, which is its assignment unless the percent moved.
   */
  async assignedVariant(
    unitId: string,
  ): Promise<{ variant: string; source: OutcomeAssignment; firstAssignedAt?: number }> {
    if (this.spec.unit !== "request" || this.bandit !== undefined) {
      const stored = await this.store.get(this.assigner.namespace, unitId);
      if (stored !== undefined) {
        return { variant: stored.variant, source: "stored", firstAssignedAt: stored.firstAssignedAt };
      }
    }
    if (this.bandit !== undefined) return { variant: this.arms.control, source: "unassigned" };
    const { salt, hashVersion, rollout } = this.spec;
    const bucket = bucketOf(salt, unitId, hashVersion);
    return { variant: variantForBucket(bucket, rollout.treatmentPercent, this.arms), source: "hash" };
  }
}
