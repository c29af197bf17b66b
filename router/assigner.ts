/**
 * The one object the proxy asks "which variant serves this request?".
 *
 * It combines the pure assignment (hash → bucket → variant), the sticky store (a unit's first
 * assignment wins over later percent changes until the salt changes), the runtime state (paused
 * and rolled-back experiments serve control) and the rollout mode (shadow serves control and names
 * the treatment to mirror to). Build a new Assigner when the spec changes; keep the store.
 */
import type { ExperimentSpec } from "../spec/schema.ts";
import { pickArm } from "../stats/thompson.ts";
import { type Arms, armsOf, mirrorTargetForBucket, variantForBucket } from "./assignment.ts";
import { unitDraw } from "./bandit/allocation.ts";
import type { Bandit } from "./bandit/bandit.ts";
import { type Bucket, bucketOf } from "./hash.ts";
import {
  type AssignmentStore,
  assignmentNamespace,
  type ClaimResult,
  type ExperimentState,
  INITIAL_STATE,
  noCounters,
  type RouterCounters,
  type StateRecord,
  type StoredAssignment,
} from "./store/types.ts";

/** The parts of a spec the assigner reads. */
export type AssignerSpec = Pick<
  ExperimentSpec,
  "name" | "salt" | "hashVersion" | "unit" | "rollout" | "variants"
>;

/** Options for `Assigner`. */
export interface AssignerOptions {
  readonly spec: AssignerSpec;
  /** Where first assignments are kept (MemoryStore, or ResilientStore over Redis). */
  readonly store: AssignmentStore;
  /** The runtime state, read synchronously per decision. Default: always active. */
  readonly state?: { current(): StateRecord };
  /** Default: counts nothing. */
  readonly counters?: RouterCounters;
  /** Mode bandit: the allocation new units are drawn from (required then). */
  readonly bandit?: Bandit;
}

/**
 * How the unit's assignment was found:
 * `stored` — the store already had it; `hash` — a new unit, placed by the hash and stored now;
 * `fallback` — the shared store was unreachable, so it came from the hash or the local cache and
 * its write is queued; `unit_missing` — the request had no unit id.
 */
export type DecisionSource = "stored" | "hash" | "fallback" | "unit_missing";

/** What serves one request, and what the exposure record says about it. */
export interface Decision {
  readonly experiment: string;
  /** The variant that serves the request (what the user sees). */
  readonly variant: string;
  /** The unit's sticky assignment; differs from `variant` when paused, rolled back, or in shadow mode. */
  readonly assigned: string;
  /** Whether this request is an exposure record of its unit: false only without a unit id. */
  readonly exposure: boolean;
  /** When the unit was first assigned, epoch ms (`now` for requests without a unit id). */
  readonly firstAssignedAt: number;
  /** Treatment percent in force when the unit was first assigned: its allocation phase. */
  readonly allocationPercent: number;
  /** The unit's bucket; undefined without a unit id. */
  readonly bucket: Bucket | undefined;
  readonly source: DecisionSource;
  /** Runtime state when the decision was made; records carry it so analysis can set paused turns apart. */
  readonly state: ExperimentState;
  /** Shadow mode: the treatment this request is also sent to, off the response path. */
  readonly mirrorTo?: string;
  /** Mode bandit: every arm's probability when the unit was drawn. */
  readonly propensities?: Readonly<Record<string, number>>;
  /** Mode bandit: the version of the allocation the unit was drawn from. */
  readonly allocationVersion?: number;
}

const alwaysActive = { current: () => INITIAL_STATE };

/** Decides the variant of each request of one experiment. */
export class Assigner {
  readonly experiment: string;
  /** Store namespace of this experiment and salt. */
  readonly namespace: string;
  readonly arms: Arms;
  private readonly spec: AssignerSpec;
  private readonly store: AssignmentStore;
  private readonly state: { current(): StateRecord };
  private readonly counters: RouterCounters;
  private readonly bandit: Bandit | undefined;
  private readonly known: ReadonlySet<string>;
  /** `request` units are new every time; storing them would only fill the store (except for a bandit). */
  private readonly sticky: boolean;

  constructor(options: AssignerOptions) {
    this.spec = options.spec;
    this.experiment = options.spec.name;
    this.namespace = assignmentNamespace(options.spec.name, options.spec.salt);
    this.arms = armsOf(options.spec);
    this.known = new Set(Object.keys(options.spec.variants));
    this.store = options.store;
    this.state = options.state ?? alwaysActive;
    this.counters = options.counters ?? noCounters;
    this.bandit = options.bandit;
    if (options.spec.rollout.mode === "bandit" && this.bandit === undefined) {
      throw new Error("rollout.mode is bandit but the assigner was given no bandit");
    }
    // A bandit must find a `request` unit's arm again when its reward arrives, so it stores them too.
    this.sticky = options.spec.unit !== "request" || options.spec.rollout.mode === "bandit";
    // Fail at construction, not on the first request, when the percent is out of range.
    variantForBucket(0, options.spec.rollout.treatmentPercent, this.arms);
  }

  /** A new unit's assignment under the current percent: what a claim proposes. */
  private propose(unitId: string, now: number): StoredAssignment {
    const { salt, hashVersion, rollout } = this.spec;
    const bucket = bucketOf(salt, unitId, hashVersion);
    if (this.bandit !== undefined) return this.draw(unitId, bucket, now, this.bandit);
    return {
      variant: variantForBucket(bucket, rollout.treatmentPercent, this.arms),
      firstAssignedAt: now,
      allocationPercent: rollout.treatmentPercent,
      bucket,
    };
  }

  /**
   * Mode bandit: the arm from the allocation in force and the unit's own uniform draw (a hash, so
   * it is replayable and independent of the unit's outcome). `allocationPercent` is the treatments'
   * total probability, which names the unit's allocation as a percent does in other modes.
   */
  private draw(unitId: string, bucket: Bucket, now: number, bandit: Bandit): StoredAssignment {
    const allocation = bandit.current();
    const arms = bandit.policy.arms;
    const probabilities = arms.map((arm) => allocation.probabilities[arm] ?? 0);
    const variant = arms[pickArm(probabilities, unitDraw(this.spec.salt, unitId))]!;
    const control = allocation.probabilities[this.arms.control] ?? 0;
    return {
      variant,
      firstAssignedAt: now,
      allocationPercent: Math.round((1 - control) * 1e6) / 1e4,
      bucket,
      // Exactly the vector drawn from (the bandit's namespace guarantees it names these arms).
      propensities: Object.fromEntries(arms.map((arm, i) => [arm, probabilities[i]!])),
      allocationVersion: allocation.version,
    };
  }

  /**
   * The decision for a request of `unitId` at `now` (epoch ms). Never rejects because of the
   * store when it is a ResilientStore or MemoryStore.
   *
   * - No unit id: control, not an exposure, counted as `unitMissing`.
   * - Otherwise the unit's first assignment (stored, or placed now); a new one is counted as
   *   `assignment(variant)`. A stored variant the spec no longer has is served by control.
   * - `paused` / `rolled_back`: control serves, the record keeps the assignment and the state.
   * - `shadow` mode: control serves; while active, units inside `mirrorPercent` get `mirrorTo`.
   */
  async decide(unitId: string | undefined, now: number): Promise<Decision> {
    const { state } = this.state.current();
    if (unitId === undefined) {
      this.counters.unitMissing();
      return {
        experiment: this.experiment,
        variant: this.arms.control,
        assigned: this.arms.control,
        exposure: false,
        firstAssignedAt: now,
        allocationPercent: this.spec.rollout.treatmentPercent,
        bucket: undefined,
        source: "unit_missing",
        state,
      };
    }
    // Known units are answered without awaiting I/O where the store allows (memory, cache hits).
    // The proposal closures are written inline: a closure bound to a name gets a `__name` call per
    // request under tsx (esbuild keepNames), which costs more than the whole cache hit.
    let claimed: ClaimResult | undefined = this.sticky
      ? this.store.claimLocal?.(this.namespace, unitId, () => this.propose(unitId, now))
      : undefined;
    if (claimed === undefined) {
      await this.bandit?.beforeNewUnit();
      claimed = this.sticky
        ? await this.store.claim(this.namespace, unitId, () => this.propose(unitId, now))
        : { assignment: this.propose(unitId, now), created: true, durable: true };
    }
    const { assignment } = claimed;
    if (claimed.created) this.counters.assignment(assignment.variant);

    const active = state === "active";
    const shadow = this.spec.rollout.mode === "shadow";
    const servable = this.known.has(assignment.variant) ? assignment.variant : this.arms.control;
    const mirrorTo =
      active && shadow
        ? mirrorTargetForBucket(assignment.bucket, this.spec.rollout.mirrorPercent, this.arms)
        : undefined;
    return {
      experiment: this.experiment,
      variant: active && !shadow ? servable : this.arms.control,
      assigned: assignment.variant,
      exposure: true,
      firstAssignedAt: assignment.firstAssignedAt,
      allocationPercent: assignment.allocationPercent,
      bucket: assignment.bucket,
      source: !claimed.durable ? "fallback" : claimed.created ? "hash" : "stored",
      state,
      ...(mirrorTo === undefined ? {} : { mirrorTo }),
      ...(assignment.propensities === undefined
        ? {}
        : { propensities: assignment.propensities, allocationVersion: assignment.allocationVersion ?? 0 }),
    };
  }
}
