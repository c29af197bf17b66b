/**
 * The experiment's runtime state (active | paused | rolled_back), shared by every replica through
 * the store and applied within a second.
 *
 * Each replica keeps the last state it read and polls the store (default every 500 ms, so a change
 * made through any replica reaches all of them within 1 s). Requests read the cached value
 * synchronously, never the store. Polling was chosen over Redis pub/sub: a missed message would
 * leave a replica serving treatment after a rollback, while a poll heals itself on the next tick,
 * and it works unchanged with the memory store.
 *
 * Transitions (`nextState`): `rollback` latches. Once rolled back, only `resume` (a person, through
 * the admin API) makes the experiment active again; a later `pause` leaves it rolled back.
 */
import {
  type ExperimentState,
  INITIAL_STATE,
  noCounters,
  type RouterCounters,
  type StateRecord,
  type StateStore,
} from "./store/types.ts";

export type { ExperimentState, StateRecord } from "./store/types.ts";

/** What an admin call or an alert asks for. */
export const stateActions = ["pause", "resume", "rollback"] as const;
export type StateAction = (typeof stateActions)[number];

/** The state after `action`; rollback is latched, so only resume leaves it. */
export function nextState(current: ExperimentState, action: StateAction): ExperimentState {
  switch (action) {
    case "resume":
      return "active";
    case "rollback":
      return "rolled_back";
    case "pause":
      return current === "rolled_back" ? "rolled_back" : "paused";
  }
}

/** Who asked for a change, and why; both end up in the stored record and the logs. */
export interface StateChange {
  readonly reason?: string;
  readonly actor?: string;
}

/** Options for `ExperimentStateWatcher`. */
export interface ExperimentStateOptions {
  /** The experiment's name (the spec's `name`). */
  readonly experiment: string;
  /** Where the state is shared: the router's store. */
  readonly store: StateStore;
  /** How often the store is read, ms. Default 500, so changes apply within 1 s. */
  readonly pollIntervalMs?: number;
  /** Clock in epoch milliseconds, stamped on changes. Default `Date.now`. */
  readonly now?: () => number;
  /** Called after the cached state changes to another state (from a poll or an `apply`). */
  readonly onChange?: (record: StateRecord, previous: StateRecord) => void;
  /** Default: counts nothing. Poll failures of a non-resilient store count as `state_read`. */
  readonly counters?: RouterCounters;
}

/** Attempts at a compare-and-set before giving up on a state change contended by other replicas. */
const MAX_WRITE_ATTEMPTS = 5;

/** One replica's view of the shared experiment state. */
export class ExperimentStateWatcher {
  readonly experiment: string;
  private readonly store: StateStore;
  private readonly pollIntervalMs: number;
  private readonly now: () => number;
  private readonly onChange: ((record: StateRecord, previous: StateRecord) => void) | undefined;
  private readonly counters: RouterCounters;
  private record: StateRecord = INITIAL_STATE;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by every `apply`, so a poll that started before it does not undo it. */
  private changes = 0;

  constructor(options: ExperimentStateOptions) {
    if (!(Number.isFinite(options.pollIntervalMs ?? 500) && (options.pollIntervalMs ?? 500) > 0)) {
      throw new RangeError(`pollIntervalMs must be a positive number, got ${String(options.pollIntervalMs)}`);
    }
    this.experiment = options.experiment;
    this.store = options.store;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.now = options.now ?? Date.now;
    this.onChange = options.onChange;
    this.counters = options.counters ?? noCounters;
  }

  /** The last known state; synchronous, for the request path. Active until something says otherwise. */
  current(): StateRecord {
    return this.record;
  }

  /** Reads the store once, then polls it until `stop()`. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.refresh(), this.pollIntervalMs);
    this.timer.unref();
  }

  /** Stops polling. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Reads the store and adopts its state. A failed read keeps the cached state (serving on is
   * better than failing requests) and is counted. An empty store (never written, or Redis lost its
   * data) also keeps it: a rollback this replica knows of stays until someone resumes.
   */
  async refresh(): Promise<StateRecord> {
    const changesBefore = this.changes;
    try {
      const stored = await this.store.readState(this.experiment);
      // A read that raced an `apply` of this replica may predate it; the next poll reads again.
      if (stored !== undefined && this.changes === changesBefore) this.adopt(stored);
    } catch {
      this.counters.storeFailure("state_read");
    }
    return this.record;
  }

  private adopt(record: StateRecord): void {
    const previous = this.record;
    this.record = record;
    if (record.state !== previous.state) this.onChange?.(record, previous);
  }

  /**
   * Applies `action` to the shared state and returns the resulting record. A change to the state
   * the store already holds (pausing a paused or rolled-back experiment) writes nothing. Retries
   * when another replica changed the state at the same moment, re-deciding from what it wrote;
   * throws when the store fails or stays contended, naming the experiment and the action.
   */
  async apply(action: StateAction, change: StateChange = {}): Promise<StateRecord> {
    this.changes += 1;
    try {
      return await this.applyOnce(action, change);
    } finally {
      this.changes += 1;
    }
  }

  private async applyOnce(action: StateAction, change: StateChange): Promise<StateRecord> {
    let stored = await this.store.readState(this.experiment);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      // An empty store (never written, or Redis lost its data) is decided from this replica's view.
      const state = nextState(stored?.state ?? this.record.state, action);
      if (stored !== undefined && state === stored.state) {
        this.adopt(stored);
        return stored;
      }
      const next: StateRecord = {
        state,
        version: (stored?.version ?? 0) + 1,
        changedAt: this.now(),
        ...(change.reason === undefined ? {} : { reason: change.reason }),
        ...(change.actor === undefined ? {} : { actor: change.actor }),
      };
      const written = await this.store.writeState(this.experiment, next);
      if (
        written.version === next.version &&
        written.changedAt === next.changedAt &&
        written.state === state
      ) {
        this.adopt(written);
        return written;
      }
      stored = written.version === 0 ? undefined : written;
    }
    throw new Error(
      `could not ${action} experiment ${this.experiment}: its state kept changing under ${MAX_WRITE_ATTEMPTS} attempts; retry`,
    );
  }
}
