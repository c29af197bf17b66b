/**
 * The in-process store: a bounded, least-recently-used cache of assignments plus the experiment
 * states. The default for a single router process, and the local cache inside the resilient store.
 *
 * Bounded because a long experiment sees millions of units. It keeps two generations of at most
 * capacity/2 entries each: new and just-used units go into the young one; when it is full it
 * becomes the old one and the previous old one is dropped whole. A unit used since the last
 * rotation is always kept, so an active conversation never loses its entry, while units not seen
 * for two rotations are forgotten (if one returns it is re-hashed, which gives the same variant
 * unless the percent changed in between). Every operation is O(1); an exact LRU over one Map
 * (delete the first key when full) degrades badly in V8, whose Maps scan deleted slots at the front.
 */
import {
  type ClaimResult,
  checkStateRecord,
  INITIAL_STATE,
  type RouterStore,
  type StateRecord,
  type StoredAssignment,
} from "./types.ts";

/** Options for `MemoryStore`. */
export interface MemoryStoreOptions {
  /**
   * Most assignments held; the least recently used half is dropped when it is reached. Default
   * 1,000,000 (the spec's `router.maxStoredUnits` default).
   */
  readonly capacity?: number;
}

/** One generation: assignments by namespace, then by unit id (no key concatenation on the hot path). */
class Generation {
  readonly byNamespace = new Map<string, Map<string, StoredAssignment>>();
  size = 0;

  get(namespace: string, unitId: string): StoredAssignment | undefined {
    return this.byNamespace.get(namespace)?.get(unitId);
  }

  set(namespace: string, unitId: string, assignment: StoredAssignment): void {
    let units = this.byNamespace.get(namespace);
    if (units === undefined) {
      units = new Map();
      this.byNamespace.set(namespace, units);
    }
    const before = units.size;
    units.set(unitId, assignment);
    this.size += units.size - before;
  }

  delete(namespace: string, unitId: string): void {
    const units = this.byNamespace.get(namespace);
    if (units?.delete(unitId) === true) this.size -= 1;
  }
}

/** In-memory assignments (bounded, least recently used dropped first) and experiment states. */
export class MemoryStore implements RouterStore {
  readonly capacity: number;
  private readonly generationSize: number;
  private young = new Generation();
  private old = new Generation();
  private readonly states = new Map<string, StateRecord>();

  constructor(options: MemoryStoreOptions = {}) {
    const capacity = options.capacity ?? 1_000_000;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`memory store capacity must be an integer ≥ 1, got ${String(capacity)}`);
    }
    this.capacity = capacity;
    this.generationSize = Math.max(1, Math.floor(capacity / 2));
  }

  /** Assignments currently held: between capacity/2 and capacity once the store has filled up. */
  get size(): number {
    return this.young.size + this.old.size;
  }

  private insert(namespace: string, unitId: string, assignment: StoredAssignment): void {
    this.young.set(namespace, unitId, assignment);
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Generation();
    }
  }

  /** The unit's assignment, marking it recently used; synchronous for callers on the hot path. */
  peek(namespace: string, unitId: string): StoredAssignment | undefined {
    const young = this.young.get(namespace, unitId);
    if (young !== undefined) return young;
    const old = this.old.get(namespace, unitId);
    if (old !== undefined) {
      this.old.delete(namespace, unitId);
      this.insert(namespace, unitId, old);
    }
    return old;
  }

  /** Sets the unit's assignment, replacing any: for caches converging on the shared store's winner. */
  put(namespace: string, unitId: string, assignment: StoredAssignment): void {
    this.old.delete(namespace, unitId);
    this.insert(namespace, unitId, assignment);
  }

  /** `claim`, synchronously: the memory store never needs I/O. */
  claimLocal(namespace: string, unitId: string, propose: () => StoredAssignment): ClaimResult {
    const existing = this.peek(namespace, unitId);
    if (existing !== undefined) return { assignment: existing, created: false, durable: true };
    const assignment = propose();
    this.put(namespace, unitId, assignment);
    return { assignment, created: true, durable: true };
  }

  async get(namespace: string, unitId: string): Promise<StoredAssignment | undefined> {
    return this.peek(namespace, unitId);
  }

  async claim(namespace: string, unitId: string, propose: () => StoredAssignment): Promise<ClaimResult> {
    return this.claimLocal(namespace, unitId, propose);
  }

  /** The experiment's state, synchronously. */
  stateOf(experiment: string): StateRecord | undefined {
    return this.states.get(experiment);
  }

  /** Sets the experiment's state without the version check: for caches mirroring the shared store. */
  putState(experiment: string, record: StateRecord): void {
    this.states.set(experiment, record);
  }

  async readState(experiment: string): Promise<StateRecord | undefined> {
    return this.states.get(experiment);
  }

  async writeState(experiment: string, next: StateRecord): Promise<StateRecord> {
    checkStateRecord(next);
    const current = this.states.get(experiment);
    if ((current?.version ?? 0) !== next.version - 1) return current ?? INITIAL_STATE;
    this.states.set(experiment, next);
    return next;
  }

  async close(): Promise<void> {
    this.young = new Generation();
    this.old = new Generation();
  }
}
