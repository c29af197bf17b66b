/**
 * What the router keeps outside a single request: each unit's first assignment, and the
 * experiment's runtime state. Implemented in memory (one process), in Redis (shared by replicas),
 * and by a resilient wrapper that keeps serving when Redis is down.
 *
 * Also the small hooks the stores and the assigner report through (counters, a logger), so this
 * folder does not depend on prom-client or pino; the app passes adapters for both.
 */
import { createHash } from "node:crypto";
import type { Bucket } from "../hash.ts";

/** A unit's first assignment, which wins over later percent changes until the salt changes. */
export interface StoredAssignment {
  /** Variant the unit was first assigned to. */
  readonly variant: string;
  /** When the unit was first assigned, epoch milliseconds. */
  readonly firstAssignedAt: number;
  /** Treatment percent in force at that moment: it names the unit's allocation phase. */
  readonly allocationPercent: number;
  /** The unit's bucket under the salt, kept so mirroring and records need not rehash. */
  readonly bucket: Bucket;
  /** Mode bandit: every arm's probability when the unit was drawn (its propensities). */
  readonly propensities?: Readonly<Record<string, number>>;
  /** Mode bandit: the version of the shared allocation it was drawn from. */
  readonly allocationVersion?: number;
}

/** The outcome of `claim`: the winning assignment and how it came about. */
export interface ClaimResult {
  /** The unit's assignment: the stored one if there was one, else the proposed one. */
  readonly assignment: StoredAssignment;
  /** True when this call stored the proposal (the unit was new). */
  readonly created: boolean;
  /**
   * True when the assignment is in the configured store; false when the store was unreachable and
   * it is only held locally, queued to be written when the store returns.
   */
  readonly durable: boolean;
}

/**
 * Sticky assignments, keyed by a namespace (see `assignmentNamespace`) and a unit id.
 * Implementations never replace a stored assignment: the first claim wins.
 */
export interface AssignmentStore {
  /** The unit's stored assignment, or undefined if it has none. */
  get(namespace: string, unitId: string): Promise<StoredAssignment | undefined>;
  /**
   * Stores `propose()` for the unit unless it already has an assignment, atomically, and returns
   * the one that is stored afterwards. `propose` is only called when it is needed.
   */
  claim(namespace: string, unitId: string, propose: () => StoredAssignment): Promise<ClaimResult>;
  /**
   * Optional fast path: the claim's result when the store can give it without I/O (the memory
   * store always, the resilient store for units in its cache); undefined means "call `claim`".
   */
  claimLocal?(namespace: string, unitId: string, propose: () => StoredAssignment): ClaimResult | undefined;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

/** Runtime states of an experiment; `paused` and `rolled_back` send everyone to control. */
export const experimentStates = ["active", "paused", "rolled_back"] as const;
export type ExperimentState = (typeof experimentStates)[number];

/** The stored runtime state of one experiment. */
export interface StateRecord {
  readonly state: ExperimentState;
  /** Incremented on every change; writes are compare-and-set on it. 0 = never written. */
  readonly version: number;
  /** When the state was set, epoch milliseconds. */
  readonly changedAt: number;
  /** Why, e.g. the alert name or "manual resume". */
  readonly reason?: string;
  /** Who: "alertmanager", an admin token's name, … */
  readonly actor?: string;
}

/** The state of an experiment nobody has paused or rolled back. */
export const INITIAL_STATE: StateRecord = { state: "active", version: 0, changedAt: 0 };

/** Checks a state record before it is stored, naming the bad field. */
export function checkStateRecord(record: StateRecord): void {
  if (!(experimentStates as readonly string[]).includes(record.state)) {
    throw new RangeError(
      `state must be one of ${experimentStates.join(", ")}, got ${JSON.stringify(record.state)}`,
    );
  }
  if (!Number.isInteger(record.version) || record.version < 1) {
    throw new RangeError(`state version must be an integer ≥ 1, got ${String(record.version)}`);
  }
}

/** Runtime experiment state shared by all replicas. */
export interface StateStore {
  /** The experiment's stored state, or undefined when none was ever written. */
  readState(experiment: string): Promise<StateRecord | undefined>;
  /**
   * Writes `next` only if the stored version is `next.version - 1` (0 when nothing is stored), so
   * two replicas changing the state at once cannot both win. Returns the record stored afterwards:
   * `next` on success, the other writer's record (or INITIAL_STATE when none) otherwise.
   */
  writeState(experiment: string, next: StateRecord): Promise<StateRecord>;
}

/** A store that keeps both assignments and state (all three implementations do). */
export type RouterStore = AssignmentStore & StateStore;

/** Kinds of store operations that did not reach the shared store. */
export type StoreFailureKind = "claim" | "get" | "state_read" | "state_write" | "flush" | "queue_full";

/** Counters the router exports as metrics; the app adapts them to prom-client. */
export interface RouterCounters {
  /** A store operation was served without the shared store (error, timeout, or store known down). */
  storeFailure(kind: StoreFailureKind): void;
  /** A request carried no unit id and was served by control without an exposure. */
  unitMissing(): void;
  /** A unit got its first assignment (counted once per unit, for sample-ratio checks). */
  assignment(variant: string): void;
}

/** Counters that count nothing, the default when the caller passes none. */
export const noCounters: RouterCounters = {
  storeFailure: () => {},
  unitMissing: () => {},
  assignment: () => {},
};

/** The logging the stores need; a pino logger satisfies it. */
export interface StoreLogger {
  warn(details: Record<string, unknown>, message: string): void;
  info(details: Record<string, unknown>, message: string): void;
}

/** A logger that drops everything, the default when the caller passes none. */
export const silentLogger: StoreLogger = { warn: () => {}, info: () => {} };

/**
 * The namespace of an experiment's assignments: its name plus a digest of its salt, so a new salt
 * starts from an empty namespace (re-randomizing everyone) while old keys stay untouched.
 */
export function assignmentNamespace(experiment: string, salt: string): string {
  const digest = createHash("sha256").update(salt).digest("hex").slice(0, 16);
  return `${experiment}:${digest}`;
}
