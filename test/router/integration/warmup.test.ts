/**
 * Warm vs cold through the whole router: a fresh replica's requests are labelled cold in the
 * latency metrics and the exposure records until its warm-up is over, then warm.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ExposureRecord } from "../../../router/records.ts";
import {
  chatTurn,
  RouterHarness,
  readRecords,
  sample,
  send,
  specInput,
  unitsOf,
} from "../../helpers/router-harness.ts";

const harness = new RouterHarness();
afterEach(() => harness.cleanup());

const labels = (replicaState: string) => ({ variant: "control", replica_state: replicaState });

describe("a fresh replica", () => {
  it("is cold for its first warm-up requests, then warm, in the metrics and the records", async () => {
    const up = await harness.upstream({ tokens: ["a", "b", "c"] });
    const specPath = harness.writeSpec(
      specInput(
        [up.url],
        [["deployments", "chat-8b", "warmup"], { requests: 3, seconds: 0, idleSeconds: 300 }],
      ),
    );
    const events = join(harness.tempDir(), "events.jsonl");
    const router = await harness.router({ specPath, eventsPath: events });
    for (let i = 0; i < 7; i++) expect((await chatTurn(router.proxyUrl, undefined, true)).status).toBe(200);
    for (const unit of unitsOf(router.context.runtime.spec, "control", 2))
      await chatTurn(router.proxyUrl, unit, true);

    const metrics = (await send(`${router.adminUrl}/metrics`)).body.toString();
    expect(sample(metrics, "llmab_ttft_seconds_count", labels("cold"))).toBe(3);
    expect(sample(metrics, "llmab_ttft_seconds_count", labels("warm"))).toBe(6);
    expect(sample(metrics, "llmab_e2e_seconds_count", labels("cold"))).toBe(3);
    expect(sample(metrics, "llmab_itl_seconds_count", labels("cold"))).toBe(6);
    await router.stop();
    const records = readRecords(events) as ExposureRecord[];
    expect(records.map((record) => record.replicaState)).toEqual(["warm", "warm"]);
  });

  it("is cold until it has been known for warmup.seconds", async () => {
    const up = await harness.upstream({ tokens: ["a", "b"] });
    let clock = 1_000;
    const specPath = harness.writeSpec(
      specInput(
        [up.url],
        [["deployments", "chat-8b", "warmup"], { requests: 0, seconds: 60, idleSeconds: 300 }],
      ),
    );
    const router = await harness.router({ specPath, context: { replicaClock: () => clock } });
    await chatTurn(router.proxyUrl, undefined, true);
    clock += 59;
    await chatTurn(router.proxyUrl, undefined, true);
    clock += 2;
    await chatTurn(router.proxyUrl, undefined, true);
    const metrics = (await send(`${router.adminUrl}/metrics`)).body.toString();
    expect(sample(metrics, "llmab_ttft_seconds_count", labels("cold"))).toBe(2);
    expect(sample(metrics, "llmab_ttft_seconds_count", labels("warm"))).toBe(1);
  });
});
