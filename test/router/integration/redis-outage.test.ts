/**
 * A router on a real redis-server that is stopped in the middle of the traffic: no client request
 * fails, known units keep their variant, the failures are counted, and the assignments made during
 * the outage reach Redis once it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStore } from "../../../router/store/redis-store.ts";
import { startRedis, type TestRedis } from "../../helpers/redis-server.ts";
import {
  chatTurn,
  eventually,
  RouterHarness,
  sample,
  send,
  specInput,
} from "../../helpers/router-harness.ts";

const harness = new RouterHarness();
let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await harness.cleanup();
  await redis?.stop();
});

describe("a Redis outage", () => {
  it("fails no client request and catches up when Redis returns", async () => {
    const up = await harness.upstream({ tokens: ["ok"] });
    const specPath = harness.writeSpec(
      specInput(
        [up.url],
        [["rollout", "treatmentPercent"], 50],
        [["router"], { store: "redis", redisUrl: redis.url }],
      ),
    );
    const router = await harness.router({ specPath });
    const served = async (units: string[], stream = false) => {
      const variants = new Map<string, string>();
      for (const unit of units) {
        const answer = await chatTurn(router.proxyUrl, unit, stream);
        expect(answer.status, `unit ${unit}`).toBe(200);
        variants.set(unit, String(answer.headers["x-llm-ab-variant"]));
      }
      return variants;
    };
    const known = Array.from({ length: 20 }, (_, i) => `known-${i}`);
    const before = await served(known);

    await redis.stop();
    // Known units (cache) and new ones (hash), streamed and not: every request is answered.
    expect(await served(known, true)).toEqual(before);
    const during = Array.from({ length: 20 }, (_, i) => `outage-${i}`);
    const duringVariants = await served(during);
    expect(await served(during, true)).toEqual(duringVariants);
    const metrics = (await send(`${router.adminUrl}/metrics`)).body.toString();
    expect(sample(metrics, "llmab_store_failures_total")).toBeGreaterThan(0);

    await redis.restart();
    expect(await served(known)).toEqual(before);
    const check = new RedisStore({ url: redis.url });
    try {
      await check.ready();
      const namespace = router.context.runtime.assigner.namespace;
      await eventually(
        "the assignments made during the outage are in Redis",
        async () => (await Promise.all(during.map((unit) => check.get(namespace, unit)))).every(Boolean),
        10_000,
      );
      for (const unit of during) {
        expect((await check.get(namespace, unit))?.variant).toBe(duringVariants.get(unit));
      }
    } finally {
      await check.close();
    }
  });
});
