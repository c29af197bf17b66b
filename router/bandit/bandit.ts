/**
 * One router replica's view of the experiment's bandit (rollout.mode bandit).
 *
 * - **Assignments** read `current()` synchronously: the allocation this replica last saw, refreshed
 *   from the store every `refreshMs` (and at once after its own updates). The probabilities a unit
 *   was drawn with are the ones recorded on its exposures, so a replica a little behind still logs
 *   the true propensity; `refreshMs: 0` reads the store before every new unit instead.
 * - **Rewards** (`observe`): an outcome of the reward metric is matched to its unit's assignment and
 *   learned only if it arrives within the reward window of the unit's first assignment, and only
 *   the unit's first reward, and only while the unit has been served its own arm (not while the
 *   experiment is paused or rolled back, nor for units assigned before the last state change);
 *   the match is counted either way (`in_window`, `late`, `unassigned`, `duplicate`, `paused`, or
 *   `unrecorded` when the store failed).
 * - **Updates** are batched: the replica whose reward makes `updateEvery` new rewards (or finds the
 *   allocation older than `maxUpdateInterval`) computes the next version from the shared
 *   statistics and stores it by compare-and-set; a replica that loses the race adopts the winner's.
 */
import type { Logger } from "pino";
import {
  type BanditAllocation,
  type BanditPolicy,
  initialAllocation,
  learnedReward,
  nextAllocation,
  updateDue,
} from "./allocation.ts";
import type { BanditStore } from "./store.ts";

/** How an outcome of the reward metric was matched (a label of `llmab_bandit_rewards_total`). */
export type RewardMatch = "in_window" | "late" | "unassigned" | "duplicate" | "paused" | "unrecorded";

/** Where the bandit reports (router/metrics.ts implements it over prom-client). */
export interface BanditReporter {
  allocation(current: BanditAllocation): void;
  reward(variant: string | undefined, match: RewardMatch): void;
  update(): void;
}

export interface BanditOptions {
  readonly policy: BanditPolicy;
  /** Experiment namespace (experiment + salt digest): a new salt starts a new bandit. */
  readonly namespace: string;
  readonly store: BanditStore;
  readonly reporter: BanditReporter;
  readonly logger: Pick<Logger, "warn">;
  /** How often the shared allocation is read, ms; 0 reads it before every new unit. Default 1,000. */
  readonly refreshMs?: number;
  /** Epoch ms. Default Date.now. */
  readonly now?: () => number;
}

/** A unit's reward, with what the router knows of its assignment. */
export interface ObservedReward {
  readonly unit: string;
  /** The unit's stored arm; undefined when the unit was never assigned (or its assignment expired). */
  readonly arm: string | undefined;
  /** Epoch ms of the unit's first assignment. */
  readonly firstAssignedAt: number | undefined;
  readonly value: number;
  /**
   * The experiment's runtime state now, and since when (epoch ms). While paused or rolled back
   * control serves every unit, so a reward then, or from a unit assigned before the last state
   * change, may describe control's answers under a treatment's name: it is not learned.
   */
  readonly state: { readonly state: string; readonly changedAt: number };
}

export class Bandit {
  readonly policy: BanditPolicy;
  private allocationInForce: BanditAllocation;
  private readonly options: BanditOptions;
  private readonly refreshMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private updating: Promise<void> | undefined;
  /** Store failures since the last warning, and when that was (one line per 10 s in an outage). */
  private failures = 0;
  private lastWarning = Number.NEGATIVE_INFINITY;

  constructor(options: BanditOptions) {
    this.options = options;
    this.policy = options.policy;
    this.refreshMs = options.refreshMs ?? 1_000;
    this.now = options.now ?? Date.now;
    this.allocationInForce = initialAllocation(options.policy.arms);
  }

  private warn(error: unknown, what: string): void {
    this.failures++;
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.options.logger.warn({ error: (error as Error).message, failures: this.failures }, what);
    this.lastWarning = now;
    this.failures = 0;
  }

  /** Reads the stored allocation once, then keeps reading it every `refreshMs`. */
  async start(): Promise<void> {
    this.options.reporter.allocation(this.allocationInForce);
    await this.refresh();
    if (this.refreshMs > 0) {
      this.timer = setInterval(() => void this.refresh(), this.refreshMs);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The allocation new units are drawn from. */
  current(): BanditAllocation {
    return this.allocationInForce;
  }

  /** Before a new unit is drawn: with `refreshMs: 0`, reads the shared allocation first. */
  async beforeNewUnit(): Promise<void> {
    if (this.refreshMs === 0) await this.refresh();
  }

  /** Adopts the stored allocation when it is newer; a store error keeps the one in force. */
  async refresh(): Promise<void> {
    try {
      const stored = await this.options.store.readAllocation(this.options.namespace);
      if (stored !== undefined) this.adopt(stored);
    } catch (error) {
      this.warn(error, "cannot read the bandit allocation: keeping the one in force");
    }
  }

  private adopt(allocation: BanditAllocation): void {
    if (allocation.version <= this.allocationInForce.version) return;
    this.allocationInForce = allocation;
    this.options.reporter.allocation(allocation);
  }

  /** Matches one reward to its unit, learns it when it counts, and updates when one is due. */
  async observe(reward: ObservedReward): Promise<RewardMatch> {
    const match = await this.learn(reward);
    this.options.reporter.reward(reward.arm, match);
    return match;
  }

  private async learn({ unit, arm, firstAssignedAt, value, state }: ObservedReward): Promise<RewardMatch> {
    if (arm === undefined || firstAssignedAt === undefined || !this.policy.arms.includes(arm)) {
      return "unassigned";
    }
    // Dropping these is independent of the arm (it depends on when, not where, a unit was assigned),
    // so it loses rewards without biasing the comparison.
    if (state.state !== "active" || firstAssignedAt < state.changedAt) return "paused";
    const now = this.now();
    const windowMs = this.policy.rewardWindowSeconds * 1000;
    if (now - firstAssignedAt > windowMs) return "late";
    const { store, namespace } = this.options;
    let total: number;
    try {
      // The mark lasts a whole window from now, longer than the unit's window has left, so a retry
      // inside the window cannot count twice.
      const counted = await store.recordReward(
        namespace,
        unit,
        this.policy.rewardWindowSeconds,
        arm,
        learnedReward(this.policy, value),
      );
      if (counted === undefined) return "duplicate";
      total = counted;
    } catch (error) {
      this.warn(error, "cannot record a bandit reward (counted as unrecorded)");
      return "unrecorded";
    }
    if (updateDue(this.policy, this.allocationInForce, total, now)) await this.update(total);
    return "in_window";
  }

  /** Computes and stores the next allocation (one at a time per replica). */
  private async update(total: number): Promise<void> {
    if (this.updating !== undefined) return this.updating;
    this.updating = (async () => {
      const { store, namespace } = this.options;
      try {
        // Another replica may have stored a newer version since this one last read.
        await this.refresh();
        if (!updateDue(this.policy, this.allocationInForce, total, this.now())) return;
        const stats = await store.readStats(namespace, this.policy.arms);
        const rewards = stats.reduce((s, a) => s + a.n, 0);
        const next = nextAllocation(
          this.policy,
          namespace,
          this.allocationInForce,
          stats,
          rewards,
          this.now(),
        );
        const stored = await store.writeAllocation(namespace, next);
        this.adopt(stored);
        if (stored.version === next.version && stored.updatedAt === next.updatedAt)
          this.options.reporter.update();
      } catch (error) {
        this.warn(error, "cannot update the bandit allocation: keeping the one in force");
      }
    })().finally(() => {
      this.updating = undefined;
    });
    return this.updating;
  }
}
