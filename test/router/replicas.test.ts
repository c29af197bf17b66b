import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type DnsResolver,
  ReplicaSet,
  type ReplicaSetOptions,
  replicaSourceFor,
} from "../../router/replicas.ts";

const warmup = { requests: 2, seconds: 10, idleSeconds: 60 };

/** A clock the test moves by hand (seconds). */
function manualClock(start = 0) {
  let now = start;
  return { now: () => now, advance: (seconds: number) => (now += seconds) };
}

function dnsError(code: string): Error {
  return Object.assign(new Error(`queryA ${code} chat-8b`), { code });
}

/** A resolver whose answers the test sets. */
function fakeResolver(v4: string[] | Error, v6: string[] | Error = dnsError("ENODATA")) {
  const answers = { v4, v6 };
  const resolver: DnsResolver & { calls: number } = {
    calls: 0,
    resolve4: async () => {
      resolver.calls++;
      if (answers.v4 instanceof Error) throw answers.v4;
      return answers.v4;
    },
    resolve6: async () => {
      if (answers.v6 instanceof Error) throw answers.v6;
      return answers.v6;
    },
  };
  return { resolver, answers };
}

function dnsSet(resolver: DnsResolver, extra: Partial<ReplicaSetOptions> = {}) {
  return new ReplicaSet({
    deployment: "chat-8b",
    source: { kind: "dns", hostname: "chat-8b.llm-ab.svc.cluster.local", port: 8000 },
    warmup,
    resolver,
    ...extra,
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("replica sources", () => {
  it("uses a deployment's endpoints when the spec lists them, else its DNS name", () => {
    expect(replicaSourceFor("chat-8b", { endpoints: ["http://127.0.0.1:8001"] })).toEqual({
      kind: "urls",
      urls: ["http://127.0.0.1:8001"],
    });
    expect(replicaSourceFor("chat-8b", {}, { hostname: "chat-8b", port: 8000 })).toEqual({
      kind: "dns",
      hostname: "chat-8b",
      port: 8000,
    });
    expect(() => replicaSourceFor("chat-8b", {})).toThrow(/deployments\.chat-8b\.endpoints/);
  });

  it("takes URL endpoints as replicas, one per distinct server, ignoring a trailing /v1", () => {
    const set = new ReplicaSet({
      deployment: "chat-8b",
      source: {
        kind: "urls",
        urls: [
          "http://127.0.0.1:8002/v1",
          "http://127.0.0.1:8001",
          "http://127.0.0.1:8001/",
          "https://gw.example/llm/",
        ],
      },
      warmup,
    });
    expect(set.replicas.map((replica) => [replica.id, replica.origin, replica.basePath])).toEqual([
      ["http://127.0.0.1:8001", "http://127.0.0.1:8001", ""],
      ["http://127.0.0.1:8002", "http://127.0.0.1:8002", ""],
      ["https://gw.example/llm", "https://gw.example", "/llm"],
    ]);
  });
});

describe("replicas from headless-Service DNS", () => {
  it("makes one replica per A and AAAA record on the Service's port", async () => {
    const { resolver } = fakeResolver(["10.0.0.2", "10.0.0.1"], ["fd00::7"]);
    const set = dnsSet(resolver);
    await set.refresh();
    expect(set.replicas.map((replica) => replica.id)).toEqual([
      "http://10.0.0.1:8000",
      "http://10.0.0.2:8000",
      "http://[fd00::7]:8000",
    ]);
  });

  it("keeps the warmth of replicas that stay, starts new ones cold and drops the ones gone", async () => {
    const clock = manualClock();
    const { resolver, answers } = fakeResolver(["10.0.0.1", "10.0.0.2"]);
    const set = dnsSet(resolver, { now: clock.now });
    await set.refresh();
    const first = set.replicas[0];
    if (first === undefined) throw new Error("no replica");
    clock.advance(11);
    for (let i = 0; i < 2; i++) {
      set.begin(first);
      set.end(first, true);
    }
    expect(set.stateOf(first)).toBe("warm");
    answers.v4 = ["10.0.0.1", "10.0.0.3"];
    await set.refresh();
    expect(set.replicas.map((replica) => replica.id)).toEqual([
      "http://10.0.0.1:8000",
      "http://10.0.0.3:8000",
    ]);
    expect(set.replicas[0]).toBe(first);
    expect(set.stateOf(first)).toBe("warm");
    expect(set.stateOf(set.replicas[1] as (typeof set.replicas)[number])).toBe("cold");
  });

  it("empties the set when the name has no records, but keeps the last replicas when DNS fails", async () => {
    const errors: Error[] = [];
    const { resolver, answers } = fakeResolver(["10.0.0.1"]);
    const set = dnsSet(resolver, { onResolveError: (error) => errors.push(error) });
    await set.refresh();
    answers.v4 = dnsError("ETIMEOUT");
    await set.refresh();
    expect(set.replicas).toHaveLength(1);
    expect(errors.map((error) => (error as NodeJS.ErrnoException).code)).toEqual(["ETIMEOUT"]);
    answers.v4 = dnsError("ENOTFOUND");
    await set.refresh();
    expect(set.replicas).toHaveLength(0);
    expect(set.pick("conversation-1")).toBeUndefined();
  });

  it("re-resolves on its interval once started, and not after it is stopped", async () => {
    vi.useFakeTimers();
    const { resolver, answers } = fakeResolver(["10.0.0.1"]);
    const set = dnsSet(resolver, { refreshSeconds: 2 });
    await set.start();
    expect(resolver.calls).toBe(1);
    answers.v4 = ["10.0.0.1", "10.0.0.9"];
    await vi.advanceTimersByTimeAsync(2_000);
    expect(resolver.calls).toBe(2);
    expect(set.replicas).toHaveLength(2);
    set.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(resolver.calls).toBe(2);
  });
});

describe("picking a replica", () => {
  const urls = ["http://127.0.0.1:8001", "http://127.0.0.1:8002", "http://127.0.0.1:8003"];

  it("keeps a conversation on one replica and spreads requests without a key round robin", () => {
    const set = new ReplicaSet({ deployment: "chat-8b", source: { kind: "urls", urls }, warmup });
    const home = set.pick("conversation-42");
    for (let i = 0; i < 10; i++) expect(set.pick("conversation-42")).toBe(home);
    const spread = new Set(Array.from({ length: 3 }, () => set.pick()?.id));
    expect(spread.size).toBe(3);
  });

  it("skips an ejected replica until its ejection ends, and tries ejected ones when none is left", () => {
    const clock = manualClock();
    const set = new ReplicaSet({
      deployment: "chat-8b",
      source: { kind: "urls", urls },
      warmup,
      now: clock.now,
    });
    const home = set.pick("c");
    if (home === undefined) throw new Error("no replica");
    set.eject(home);
    const elsewhere = set.pick("c");
    expect(elsewhere).not.toBe(home);
    clock.advance(5.001);
    expect(set.pick("c")).toBe(home);
    for (const replica of set.replicas) set.eject(replica);
    expect(set.pick("c")).toBe(home);
    expect(set.pick("c", new Set(set.replicas))).toBeUndefined();
  });

  it("labels requests cold until the replica's warm-up is over, from the state before each request", () => {
    const clock = manualClock();
    const set = new ReplicaSet({
      deployment: "chat-8b",
      source: { kind: "urls", urls: [urls[0] as string] },
      warmup,
      now: clock.now,
    });
    const replica = set.replicas[0];
    if (replica === undefined) throw new Error("no replica");
    const labels: string[] = [];
    // t = 0: young; t = 10: old enough but one request served; t = 10.5: two served.
    for (const step of [0, 10, 0.5, 1]) {
      clock.advance(step);
      labels.push(set.begin(replica));
      set.end(replica, true);
    }
    expect(labels).toEqual(["cold", "cold", "warm", "warm"]);
    clock.advance(61);
    expect(set.begin(replica)).toBe("cold");
  });
});
