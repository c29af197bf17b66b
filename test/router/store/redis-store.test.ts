import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Assigner } from "../../../router/assigner.ts";
import { bucketOf } from "../../../router/hash.ts";
import { RedisStore } from "../../../router/store/redis-store.ts";
import { startRedis, type TestRedis } from "../../helpers/redis-server.ts";
import { routerSpec } from "../router-spec.ts";
import { assignmentOf, describeStoreContract } from "./store-contract.ts";

let redis: TestRedis;
const opened: RedisStore[] = [];

/** A store on the test server, closed in afterAll. */
function connect(options: { ttlSeconds?: number; keyPrefix?: string } = {}): RedisStore {
  const store = new RedisStore({ url: redis.url, ...options });
  opened.push(store);
  return store;
}

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()));
  await redis?.stop();
});

describeStoreContract("redis", () => connect());

describe("RedisStore", () => {
  it("gives two router replicas the same winner for a unit both see first", async () => {
    const [replicaA, replicaB] = [connect(), connect()];
    await Promise.all([replicaA.ready(), replicaB.ready()]);
    const [a, b] = await Promise.all([
      replicaA.claim("replicas:0000", "u-1", () => assignmentOf("control", 1)),
      replicaB.claim("replicas:0000", "u-1", () => assignmentOf("treatment", 2)),
    ]);
    expect(a.assignment).toEqual(b.assignment);
    expect([a.created, b.created].sort()).toEqual([false, true]);
  });

  it("keeps an assignment as JSON under a key namespaced by experiment and salt digest", async () => {
    const store = connect();
    await store.ready();
    await store.claim("exp:1234abcd", "u:with:colons", () => assignmentOf("treatment", 42));
    const raw = await store.client.get("llmab:assign:exp:1234abcd:u:with:colons");
    expect(JSON.parse(raw ?? "null")).toEqual(assignmentOf("treatment", 42));
    expect(await store.client.ttl("llmab:assign:exp:1234abcd:u:with:colons")).toBe(-1);
  });

  it("sets an expiry on assignment keys when ttlSeconds is given", async () => {
    const store = connect({ ttlSeconds: 3_600, keyPrefix: "ttl:" });
    await store.ready();
    await store.claim("ns", "u", () => assignmentOf("control"));
    const ttl = await store.client.ttl("ttl:assign:ns:u");
    expect(ttl).toBeGreaterThan(3_500);
    expect(ttl).toBeLessThanOrEqual(3_600);
  });

  it("names the key when it holds something this router did not write", async () => {
    const store = connect();
    await store.ready();
    await store.client.set("llmab:assign:corrupt:0:u", "not json");
    await store.client.set(
      "llmab:state:corrupt",
      JSON.stringify({ state: "frozen", version: 1, changedAt: 0 }),
    );
    await expect(store.get("corrupt:0", "u")).rejects.toThrow(
      /Redis key llmab:assign:corrupt:0:u does not hold JSON/,
    );
    await expect(store.readState("corrupt")).rejects.toThrow(
      /Redis key llmab:state:corrupt holds an unexpected value/,
    );
  });

  it("rejects a store built with neither or both of url and client", () => {
    expect(() => new RedisStore({})).toThrow("RedisStore needs exactly one of `url` or `client`");
  });

  it("keeps a unit's first assignment over a later percent change until the salt changes", async () => {
    const spec10 = routerSpec([["rollout", "treatmentPercent"], 10]);
    const spec50 = routerSpec([["rollout", "treatmentPercent"], 50]);
    // A unit the hash puts in control at 10 % but in treatment at 50 %.
    const unit = Array.from({ length: 1_000 }, (_, i) => `conv-${i}`).find((id) => {
      const bucket = bucketOf(spec10.salt, id);
      return bucket >= 1_000 && bucket < 5_000;
    })!;
    const first = await new Assigner({ spec: spec10, store: connect() }).decide(unit, 1_000);
    expect(first).toMatchObject({ variant: "control", source: "hash", allocationPercent: 10 });

    // A new router process (new store, new assigner) after the ramp still finds the stored control.
    const afterRamp = await new Assigner({ spec: spec50, store: connect() }).decide(unit, 2_000);
    expect(afterRamp).toMatchObject({
      variant: "control",
      source: "stored",
      firstAssignedAt: 1_000,
      allocationPercent: 10,
    });

    const newSalt = routerSpec(
      [["rollout", "treatmentPercent"], 50],
      [["salt"], "support-bot-policy-prompt-v2"],
    );
    const resalted = await new Assigner({ spec: newSalt, store: connect() }).decide(unit, 3_000);
    expect(resalted).toMatchObject({ source: "hash", firstAssignedAt: 3_000, allocationPercent: 50 });
    expect(resalted.bucket).toBe(bucketOf("support-bot-policy-prompt-v2", unit));
  });
});
