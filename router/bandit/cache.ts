/**
 * The router's bandit across spec reloads (rollout.mode bandit).
 */
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ExperimentSpec } from "../../spec/schema.ts";
import type { Arms } from "../assignment.ts";
import { assignmentNamespace } from "../store/types.ts";
import type { BanditPolicy } from "./allocation.ts";
import { Bandit, type BanditReporter } from "./bandit.ts";
import { banditReporter } from "./metrics.ts";
import { banditPolicyOf } from "./policy.ts";
import type { BanditStore } from "./store.ts";

/**
 * Where a bandit's statistics and allocation live: the experiment and salt (a new salt
 * re-randomizes), and what is learned — the arms, the reward metric, its kind and direction. A
 * reload that changes any of those starts a fresh bandit at the equal split instead of mixing
 * rewards of another metric, or allocating over arms the spec no longer has.
 */
export function banditNamespace(spec: ExperimentSpec, policy: BanditPolicy): string {
  const learned = JSON.stringify([policy.arms, policy.reward, policy.kind, policy.direction]);
  const digest = createHash("sha256").update(learned).digest("hex").slice(0, 12);
  return `${assignmentNamespace(spec.name, spec.salt)}:${digest}`;
}

/**
 * One {@link Bandit} per (namespace, policy): a spec reload that keeps the bandit settings keeps
 * the running bandit; one that changes them starts a new one over the same shared store, which
 * carries the statistics and the allocation on.
 */
export class BanditCache {
  private key: string | undefined;
  private bandit: Bandit | undefined;

  constructor(
    private readonly store: BanditStore,
    private readonly registry: Registry,
    private readonly logger: Logger,
    private readonly refreshMs: number | undefined,
    private readonly onAllocation: () => void,
  ) {}

  async for(spec: ExperimentSpec, arms: Arms): Promise<Bandit | undefined> {
    const policy = banditPolicyOf(spec, arms);
    if (policy === undefined) return undefined;
    const namespace = banditNamespace(spec, policy);
    const key = JSON.stringify([namespace, policy]);
    if (key === this.key && this.bandit !== undefined) return this.bandit;
    const bandit = new Bandit({
      policy,
      namespace,
      store: this.store,
      reporter: this.reporter(spec.name),
      logger: this.logger,
      ...(this.refreshMs === undefined ? {} : { refreshMs: this.refreshMs }),
    });
    await bandit.start();
    this.bandit?.stop();
    this.bandit = bandit;
    this.key = key;
    return bandit;
  }

  stop(): void {
    this.bandit?.stop();
  }

  /** The bandit series, plus the treatment fractions, which follow the allocation. */
  private reporter(experiment: string): BanditReporter {
    const series = banditReporter(this.registry, experiment);
    return {
      ...series,
      allocation: (current) => {
        series.allocation(current);
        this.onAllocation();
      },
    };
  }
}
