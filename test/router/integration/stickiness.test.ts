/**
 * Whole routers (`startRouter`) sharing a real redis-server, in front of a scripted upstream: a
 * conversation keeps its variant over turns, a ramp, a pause and a router restart, and an
 * Alertmanager pause through one router takes the treatment's traffic off every router.
 */
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ExposureRecord } from "../../../router/records.ts";
import { redisPerFile } from "../../helpers/redis-server.ts";
import {
  chatTurn,
  eventually,
  postJson,
  RouterHarness,
  readRecords,
  specInput,
  systemPromptOf,
  testSpec,
  unitsOf,
} from "../../helpers/router-harness.ts";
import type { ScriptedUpstream } from "../../helpers/scripted-upstream.ts";

const harness = new RouterHarness();
const redis = redisPerFile();
let up: ScriptedUpstream;

beforeEach(async () => {
  up = await harness.upstream({ tokens: ["ok"] });
});
afterEach(() => harness.cleanup());

const TOKEN = "t0ken";

/** The spec at `percent`, with the Redis store. */
function redisSpec(percent: number) {
  return specInput(
    [up.url],
    [["rollout", "treatmentPercent"], percent],
    [["router"], { store: "redis", redisUrl: redis().url }],
  );
}

/** The variant each unit is served, one turn each. */
async function turns(proxyUrl: string, units: readonly string[]): Promise<Map<string, string>> {
  const served = new Map<string, string>();
  for (const unit of units) {
    const answer = await chatTurn(proxyUrl, unit);
    expect(answer.status).toBe(200);
    served.set(unit, String(answer.headers["x-llm-ab-variant"]));
  }
  return served;
}

function exposures(path: string): ExposureRecord[] {
  return readRecords(path).filter((record): record is ExposureRecord => record.type === "exposure");
}

describe("a conversation's variant", () => {
  it("stays the same over several turns and over a 10 % → 50 % ramp applied by reload", async () => {
    const specPath = harness.writeSpec(redisSpec(10));
    const events = join(harness.tempDir(), "events.jsonl");
    const router = await harness.router({ specPath, eventsPath: events });
    const units = Array.from({ length: 60 }, (_, i) => `conv-${i}`);
    const before = await turns(router.proxyUrl, units);
    expect(await turns(router.proxyUrl, units)).toEqual(before);
    expect([...before.values()].filter((variant) => variant === "treatment").length).toBeGreaterThan(0);

    harness.writeSpec(redisSpec(50));
    expect(await router.reload()).toBe(true);
    // Stored first assignments win: nobody moves, in particular nobody leaves treatment.
    expect(await turns(router.proxyUrl, units)).toEqual(before);
    // New conversations are placed at 50 %: the ramp's units are the ones the wider prefix adds.
    const ramped = unitsOf(testSpec([up.url], [["rollout", "treatmentPercent"], 50]), "treatment", 5, "new");
    for (const variant of (await turns(router.proxyUrl, ramped)).values()) expect(variant).toBe("treatment");
    await router.stop();

    const records = exposures(events);
    expect(records).toHaveLength(3 * units.length + ramped.length);
    const old = records.filter((record) => units.includes(record.unit));
    expect(new Set(old.map((record) => record.allocation))).toEqual(new Set([10]));
    expect(records.filter((record) => ramped.includes(record.unit)).every((r) => r.allocation === 50)).toBe(
      true,
    );
  });

  it("comes back after a pause and a resume, and is recorded with the state in between", async () => {
    const specPath = harness.writeSpec(redisSpec(50));
    const events = join(harness.tempDir(), "events.jsonl");
    const router = await harness.router({ specPath, eventsPath: events, adminToken: TOKEN });
    const [unit = ""] = unitsOf(testSpec([up.url], [["rollout", "treatmentPercent"], 50]), "treatment", 1);
    const admin = (action: string) =>
      postJson(`${router.adminUrl}/admin/${action}`, {}, { authorization: `Bearer ${TOKEN}` });
    expect((await turns(router.proxyUrl, [unit])).get(unit)).toBe("treatment");
    expect((await admin("pause")).status).toBe(200);
    expect((await turns(router.proxyUrl, [unit])).get(unit)).toBe("control");
    expect((await admin("resume")).status).toBe(200);
    expect((await turns(router.proxyUrl, [unit])).get(unit)).toBe("treatment");
    await router.stop();
    expect(exposures(events).map((r) => [r.variant, r.assigned, r.state])).toEqual([
      ["treatment", "treatment", "active"],
      ["control", "treatment", "paused"],
      ["treatment", "treatment", "active"],
    ]);
  });

  it("survives a router restart through Redis, even when the restarted router runs another percent", async () => {
    const first = await harness.router({ specPath: harness.writeSpec(redisSpec(10), "first.json") });
    const units = Array.from({ length: 40 }, (_, i) => `restart-${i}`);
    const before = await turns(first.proxyUrl, units);
    await first.stop();
    // Units the hash alone would now move to treatment: only the store keeps them in control.
    const wouldMove = new Set(
      unitsOf(testSpec([up.url], [["rollout", "treatmentPercent"], 50]), "treatment", 40, "restart"),
    );
    expect(
      units.filter((unit) => before.get(unit) === "control" && wouldMove.has(unit)).length,
    ).toBeGreaterThan(0);

    const events = join(harness.tempDir(), "events.jsonl");
    const second = await harness.router({
      specPath: harness.writeSpec(redisSpec(50), "second.json"),
      eventsPath: events,
    });
    expect(await turns(second.proxyUrl, units)).toEqual(before);
    await second.stop();
    expect(new Set(exposures(events).map((record) => record.allocation))).toEqual(new Set([10]));
  });
});

describe("an Alertmanager pause", () => {
  it("takes all traffic off the treatment on every router sharing Redis", async () => {
    const specPath = harness.writeSpec(redisSpec(50));
    const [a, b] = await Promise.all([
      harness.router({ specPath, adminToken: TOKEN, context: { statePollMs: 100 } }),
      harness.router({ specPath, adminToken: TOKEN, context: { statePollMs: 100 } }),
    ]);
    const spec = testSpec([up.url], [["rollout", "treatmentPercent"], 50]);
    const treated = unitsOf(spec, "treatment", 10);
    expect([...(await turns(b.proxyUrl, treated)).values()]).toEqual(Array(10).fill("treatment"));

    const alert = {
      version: "4",
      status: "firing",
      alerts: [
        {
          status: "firing",
          labels: { alertname: "TtftP95Regression", experiment: spec.name, action: "pause" },
          annotations: {},
        },
      ],
    };
    const answer = await postJson(`${a.adminUrl}/alertmanager`, alert, { authorization: `Bearer ${TOKEN}` });
    expect(answer.status).toBe(200);
    await eventually("router b has read the pause", () => b.context.state.current().state === "paused");

    const seen = up.requests.length;
    for (const router of [a, b]) {
      expect([...(await turns(router.proxyUrl, treated)).values()]).toEqual(Array(10).fill("control"));
    }
    const treatmentPrompt = spec.variants.treatment?.systemPrompt;
    expect(up.requests.slice(seen).filter((request) => systemPromptOf(request) === treatmentPrompt)).toEqual(
      [],
    );
  });
});
