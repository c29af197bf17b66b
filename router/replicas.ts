/**
 * The replicas of one deployment, as the router sees them: from the spec's `endpoints` URL list
 * (outside Kubernetes) or from a headless Service's DNS name, re-resolved on an interval so pods
 * that come and go are followed. Each replica carries its warm-up state (warmth.ts) and is picked
 * by rendezvous hashing on the conversation key (rendezvous.ts).
 */
import { promises as dnsPromises } from "node:dns";
import type { Deployment } from "../spec/schema.ts";
import { keyHash, memberHash, pickRendezvous } from "./rendezvous.ts";
import { type Clock, monotonicSeconds } from "./timing.ts";
import {
  afterEnd,
  afterStart,
  freshWarmth,
  type ReplicaState,
  type ReplicaWarmth,
  replicaState,
  type WarmupPolicy,
} from "./warmth.ts";

/** One server of a deployment. */
export interface Replica {
  /** Stable identity: origin plus base path, e.g. `http://10.0.3.7:8000`. */
  readonly id: string;
  /** Scheme, host and port, what undici connects to. */
  readonly origin: string;
  /** Path prefix before `/v1/...`, usually empty. */
  readonly basePath: string;
  readonly rendezvousHash: number;
  warmth: ReplicaWarmth;
  /** Until when (seconds) the replica is skipped after it refused a connection; 0 when not. */
  ejectedUntil: number;
}

/** A headless Service: one A/AAAA record per ready pod. */
export interface DnsTarget {
  readonly hostname: string;
  readonly port: number;
  /** Default `http:`. */
  readonly protocol?: "http:" | "https:";
}

/** Where a deployment's replicas come from. */
export type ReplicaSource =
  | { readonly kind: "urls"; readonly urls: readonly string[] }
  | ({ readonly kind: "dns" } & DnsTarget);

/** The resolver calls used (`dns.promises` by default; tests pass their own). */
export interface DnsResolver {
  resolve4(hostname: string): Promise<string[]>;
  resolve6(hostname: string): Promise<string[]>;
}

/**
 * The source for a deployment: its `endpoints` when the spec lists them, else `dns` (the headless
 * Service the stack created for it).
 *
 * @throws Error naming the deployment when it has neither.
 */
export function replicaSourceFor(
  name: string,
  deployment: Pick<Deployment, "endpoints">,
  dns?: DnsTarget,
): ReplicaSource {
  if (deployment.endpoints !== undefined) return { kind: "urls", urls: deployment.endpoints };
  if (dns !== undefined) return { kind: "dns", ...dns };
  throw new Error(
    `deployment ${name} has no replicas to send to: list its servers in deployments.${name}.endpoints, or run the router in Kubernetes where its headless Service is resolved`,
  );
}

/** Options of a {@link ReplicaSet}. */
export interface ReplicaSetOptions {
  /** The deployment's name, used in errors. */
  readonly deployment: string;
  readonly source: ReplicaSource;
  /** The deployment's `warmup` from the spec. */
  readonly warmup: WarmupPolicy;
  /** Clock for warm-up and ejection, seconds. Default `performance.now()`. */
  readonly now?: Clock;
  /** Default `node:dns` promises (the system's resolver configuration, not /etc/hosts). */
  readonly resolver?: DnsResolver;
  /** Seconds between DNS resolutions. Default 5: a new pod gets traffic within 5 s of being ready. */
  readonly refreshSeconds?: number;
  /** Seconds a replica that refused a connection is skipped. Default 5. */
  readonly ejectSeconds?: number;
  /** Called when a DNS resolution fails (the last known replicas are kept). Default: ignore. */
  readonly onResolveError?: (error: Error) => void;
}

function splitUrl(url: string): { origin: string; basePath: string } {
  const parsed = new URL(url);
  // An OpenAI "base URL" often ends in /v1; requests add /v1/... themselves.
  const basePath = parsed.pathname.replace(/\/+$/, "").replace(/\/v1$/, "");
  return { origin: parsed.origin, basePath };
}

// Answers that mean "there is nothing at this name" rather than "DNS is broken".
const NO_RECORDS = new Set(["ENODATA", "ENOTFOUND", "NOTFOUND", "NODATA"]);

async function resolveFamily(lookup: () => Promise<string[]>): Promise<string[]> {
  try {
    return await lookup();
  } catch (error) {
    if (NO_RECORDS.has((error as NodeJS.ErrnoException).code ?? "")) return [];
    throw error;
  }
}

/** The live replicas of one deployment, with their warmth. */
export class ReplicaSet {
  readonly deployment: string;
  private readonly source: ReplicaSource;
  private readonly warmup: WarmupPolicy;
  private readonly now: Clock;
  private readonly resolver: DnsResolver;
  private readonly refreshSeconds: number;
  private readonly ejectSeconds: number;
  private readonly onResolveError: (error: Error) => void;
  private members: Replica[] = [];
  private roundRobin = 0;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(options: ReplicaSetOptions) {
    this.deployment = options.deployment;
    this.source = options.source;
    this.warmup = options.warmup;
    this.now = options.now ?? monotonicSeconds;
    this.resolver = options.resolver ?? dnsPromises;
    this.refreshSeconds = options.refreshSeconds ?? 5;
    this.ejectSeconds = options.ejectSeconds ?? 5;
    this.onResolveError = options.onResolveError ?? (() => {});
    if (this.source.kind === "urls") this.replace(this.source.urls);
  }

  /** The replicas known now, sorted by id. */
  get replicas(): readonly Replica[] {
    return this.members;
  }

  /**
   * Resolves the DNS name once (no-op for a URL list). An authoritative "no such records" empties
   * the set; any other failure keeps the last known replicas and is reported to `onResolveError`,
   * since a DNS hiccup should not take a deployment out of service.
   */
  refresh(): Promise<void> {
    const source = this.source;
    if (source.kind !== "dns") return Promise.resolve();
    this.refreshing ??= (async () => {
      try {
        const [v4, v6] = await Promise.all([
          resolveFamily(() => this.resolver.resolve4(source.hostname)),
          resolveFamily(() => this.resolver.resolve6(source.hostname)),
        ]);
        const protocol = source.protocol ?? "http:";
        this.replace([
          ...v4.map((ip) => `${protocol}//${ip}:${source.port}`),
          ...v6.map((ip) => `${protocol}//[${ip}]:${source.port}`),
        ]);
      } catch (error) {
        this.onResolveError(error as Error);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Resolves now, then every `refreshSeconds`; the timer does not keep the process alive. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.source.kind === "dns" && this.timer === undefined) {
      this.timer = setInterval(() => void this.refresh(), this.refreshSeconds * 1000);
      this.timer.unref();
    }
  }

  /** Stops re-resolving. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The replica for a request. With a conversation key: the rendezvous choice among replicas not
   * ejected (so a conversation keeps its replica and moves only when it is gone); without one:
   * round robin. Replicas in `exclude` (already tried) are skipped; when every replica is ejected,
   * ejected ones are tried rather than none. Undefined when there is no replica at all.
   */
  pick(conversationKey?: string, exclude?: ReadonlySet<Replica>): Replica | undefined {
    const now = this.now();
    const usable = (replica: Replica) => exclude === undefined || !exclude.has(replica);
    const live = (replica: Replica) => replica.ejectedUntil <= now && usable(replica);
    if (conversationKey !== undefined) {
      const key = keyHash(conversationKey);
      return pickRendezvous(key, this.members, live) ?? pickRendezvous(key, this.members, usable);
    }
    let pool = this.members.filter(live);
    if (pool.length === 0) pool = this.members.filter(usable);
    if (pool.length === 0) return undefined;
    this.roundRobin = (this.roundRobin + 1) % pool.length;
    return pool[this.roundRobin];
  }

  /** Starts a request on the replica; returns the label its latencies get (its state before it). */
  begin(replica: Replica): ReplicaState {
    const now = this.now();
    const state = replicaState(replica.warmth, this.warmup, now);
    replica.warmth = afterStart(replica.warmth, now);
    return state;
  }

  /** Ends a request begun with {@link begin}; `served` when the replica sent a response. */
  end(replica: Replica, served: boolean): void {
    replica.warmth = afterEnd(replica.warmth, this.now(), served);
  }

  /** Skips the replica for `ejectSeconds` (it refused a connection). */
  eject(replica: Replica): void {
    replica.ejectedUntil = this.now() + this.ejectSeconds;
  }

  /** The replica's state at this moment, without starting a request. */
  stateOf(replica: Replica): ReplicaState {
    return replicaState(replica.warmth, this.warmup, this.now());
  }

  /** Keeps replicas that are still listed (with their warmth), adds new ones fresh, drops the rest. */
  private replace(urls: readonly string[]): void {
    const now = this.now();
    const previous = new Map(this.members.map((replica) => [replica.id, replica]));
    const next = new Map<string, Replica>();
    for (const url of urls) {
      const { origin, basePath } = splitUrl(url);
      const id = `${origin}${basePath}`;
      if (next.has(id)) continue;
      next.set(id, previous.get(id) ?? this.create(id, origin, basePath, now));
    }
    this.members = [...next.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private create(id: string, origin: string, basePath: string, now: number): Replica {
    return {
      id,
      origin,
      basePath,
      rendezvousHash: memberHash(id),
      warmth: freshWarmth(now),
      ejectedUntil: 0,
    };
  }
}
