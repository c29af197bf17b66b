/**
 * Where the bandit's shared numbers live: each arm's reward statistics, the total of rewards, which
 * units already gave one, and the allocation in force. In memory for one router process; in Redis
 * (redis-store.ts) when replicas share an experiment, so every replica learns from every reward and
 * assigns from the same allocation.
 */
import type { ArmStats } from "../../stats/thompson.ts";
import type { BanditAllocation } from "./allocation.ts";

/** The bandit's shared state, per experiment namespace (experiment + salt digest). */
export interface BanditStore {
  /**
   * Counts the unit's reward for `arm`, once: the first call for a unit within `ttlSeconds` adds
   * the value to the arm's statistics and returns the total of rewards of all arms afterwards; a
   * later one changes nothing and returns undefined. One atomic step, so a failure can neither
   * mark a reward without counting it nor count it twice.
   */
  recordReward(
    namespace: string,
    unit: string,
    ttlSeconds: number,
    arm: string,
    value: number,
  ): Promise<number | undefined>;
  /** Every arm's statistics, in the order given (arms never rewarded are zeros). */
  readStats(namespace: string, arms: readonly string[]): Promise<ArmStats[]>;
  /** The stored allocation, or undefined before the first update. */
  readAllocation(namespace: string): Promise<BanditAllocation | undefined>;
  /**
   * Stores `next` if the stored allocation is still version next.version − 1 (compare-and-set, so
   * two replicas updating at once store one result); returns what is stored afterwards.
   */
  writeAllocation(namespace: string, next: BanditAllocation): Promise<BanditAllocation>;
}

const SWEEP_EVERY = 10_000;

const emptyArm = (): ArmStats => ({ n: 0, sum: 0, sumSquares: 0 });

/** The bandit's state in this process only (router.store memory). */
export class MemoryBanditStore implements BanditStore {
  /** Unit → until when its reward mark holds, epoch ms. */
  private readonly rewarded = new Map<string, number>();
  private nextSweep = SWEEP_EVERY;
  private readonly stats = new Map<string, Map<string, ArmStats>>();
  private readonly totals = new Map<string, number>();
  private readonly allocations = new Map<string, BanditAllocation>();

  constructor(private readonly now: () => number = Date.now) {}

  async recordReward(
    namespace: string,
    unit: string,
    ttlSeconds: number,
    arm: string,
    value: number,
  ): Promise<number | undefined> {
    const key = `${namespace}\u0000${unit}`;
    const until = this.rewarded.get(key);
    const now = this.now();
    if (until !== undefined && until > now) return undefined;
    // Expired marks are swept now and then, as Redis expires its keys, so memory stays bounded by
    // the units rewarded within one window.
    if (this.rewarded.size >= this.nextSweep) {
      for (const [k, t] of this.rewarded) if (t <= now) this.rewarded.delete(k);
      this.nextSweep = Math.max(SWEEP_EVERY, 2 * this.rewarded.size);
    }
    this.rewarded.set(key, now + ttlSeconds * 1000);
    const arms = this.stats.get(namespace) ?? new Map<string, ArmStats>();
    this.stats.set(namespace, arms);
    const s = arms.get(arm) ?? emptyArm();
    arms.set(arm, { n: s.n + 1, sum: s.sum + value, sumSquares: s.sumSquares + value * value });
    const total = (this.totals.get(namespace) ?? 0) + 1;
    this.totals.set(namespace, total);
    return total;
  }

  async readStats(namespace: string, arms: readonly string[]): Promise<ArmStats[]> {
    const stored = this.stats.get(namespace);
    return arms.map((arm) => ({ ...(stored?.get(arm) ?? emptyArm()) }));
  }

  async readAllocation(namespace: string): Promise<BanditAllocation | undefined> {
    return this.allocations.get(namespace);
  }

  async writeAllocation(namespace: string, next: BanditAllocation): Promise<BanditAllocation> {
    const current = this.allocations.get(namespace);
    if ((current?.version ?? 0) !== next.version - 1) return current ?? next;
    this.allocations.set(namespace, next);
    return next;
  }
}
