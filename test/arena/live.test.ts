/** Online judging of live answers: judging the sampled slice, outcome records, analysis (reading and sampling: live-log.test.ts). */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { runAnalysis } from "../../analysis/analyze.ts";
import { promptVersion } from "../../arena/judge-prompts.ts";
import { Judge } from "../../arena/judges.ts";
import {
  judgedOutcomes,
  judgeSlice,
  LiveLogError,
  mergeOutcomes,
  readLiveSlice,
  summarizeLive,
} from "../../arena/live.ts";
import { rubricHash } from "../../arena/rubric.ts";
import type { Rubric } from "../../arena/types.ts";
import { pairedDifference } from "../../stats/paired.ts";
import {
  type ArenaScript,
  type ArenaServer,
  lastUserText,
  messagesOf,
  startArenaServer,
  tagged,
} from "../helpers/arena-server.ts";
import { duelSpec, tempDir } from "../helpers/unit-data.ts";
import { exposureRecord, iso, outcomeRecord, shadowRecord, writeLog as writeLogIn } from "./live-records.ts";

const dir = tempDir("llm-ab-live-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let server: ArenaServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const rubric: Rubric = {
  name: "support",
  axes: ["clarity", "policy_citation"].map((name) => ({
    name,
    description: `how good the ${name} is`,
    anchors: { "1": "poor", "2": undefined, "3": "fair", "4": undefined, "5": "excellent" },
  })),
};

/** policy_citation 5 when the answer names a policy, else 1; clarity 5 for short answers, else 3. */
const scriptedJudge: ArenaScript["judge"] = (body) => {
  const answer = tagged(lastUserText(body), "answer") ?? "";
  if (answer.includes("GARBLE")) return "I think it is a 4.";
  const policy_citation = /policy/i.test(answer) ? 5 : 1;
  const clarity = answer.length < 40 ? 5 : 3;
  return JSON.stringify({ scores: { clarity, policy_citation }, reason: "scripted" });
};

async function judgeOn(script: ArenaScript["judge"] = scriptedJudge): Promise<Judge> {
  server = await startArenaServer({ judge: script });
  return new Judge({ endpoint: server.url, model: "judge", seed: 7, post: { retries: 0 } });
}

const shadow = shadowRecord;
const exposure = exposureRecord;
const outcome = outcomeRecord;
const writeLog = (name: string, records: readonly unknown[]) => writeLogIn(dir, name, records);

const options = { sample: 1, controlVariant: "control" };

describe("judging the slice", () => {
  it("scores a shadow answer with the rubric judge on its own: shadow records keep no conversation", async () => {
    const judge = await judgeOn();
    const slice = await readLiveSlice(writeLog("one.jsonl", [shadow("s1", 1)]), options);
    const scores = await judgeSlice(slice, judge, rubric);
    expect(scores.map((s) => [s.answer.variant, s.scores])).toEqual([
      ["control", { clarity: 5, policy_citation: 1 }],
      ["treatment", { clarity: 3, policy_citation: 5 }],
    ]);
    const prompts = (server as ArenaServer).calls().map((call) => lastUserText(call.body));
    expect(prompts.map((prompt) => tagged(prompt, "answer")).sort()).toEqual([
      "Under our Returns Policy §2 you can return it.",
      "You can return it.",
    ]);
    expect(prompts.every((prompt) => tagged(prompt, "conversation") === "")).toBe(true);
    expect((server as ArenaServer).calls().every((call) => messagesOf(call.body).length === 2)).toBe(true);
    expect(scores[0]?.judge).toEqual({
      endpoint: (server as ArenaServer).url,
      model: "judge",
      temperature: 0,
      seed: 7,
      promptVersion,
    });
  });

  it("shows the judge the conversation a sampled exposure kept (router.answerSamplePercent)", async () => {
    const judge = await judgeOn();
    const messages = [{ role: "user", content: "Can I return opened shoes bought last month?" }];
    const record = {
      ...exposure("u9", 3, { assigned: "treatment", text: "Under our Returns Policy §2, yes." }),
      messages,
    };
    const slice = await readLiveSlice(writeLog("sampled.jsonl", [record]), options);
    expect(slice.records[0]?.messages).toEqual(messages);
    await judgeSlice(slice, judge, rubric);
    const prompt = lastUserText((server as ArenaServer).calls()[0]?.body ?? {});
    expect(tagged(prompt, "conversation")).toContain("Can I return opened shoes bought last month?");
  });

  it("stops with the log line and field of an answer the judge cannot score", async () => {
    const judge = await judgeOn();
    const log = writeLog("garble.jsonl", [shadow("s1", 1), shadow("s2", 2, { text: "GARBLE" })]);
    const error = await judgeSlice(await readLiveSlice(log, options), judge, rubric).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LiveLogError);
    expect((error as Error).message).toMatch(
      new RegExp(`^${log}:2 \\(text\\): judging treatment's answer to request "s2" failed: .*it is not JSON`),
    );
  });

  it("names the log line of an answer whose judge call failed", async () => {
    server = await startArenaServer({ reject: () => 400 });
    const judge = new Judge({ endpoint: server.url, model: "judge", seed: 7, post: { retries: 0 } });
    const log = writeLog("refused.jsonl", [shadow("s1", 1, { controlText: undefined })]);
    await expect(judgeSlice(await readLiveSlice(log, options), judge, rubric)).rejects.toThrow(
      `${log}:1 (text): judging treatment's answer to request "s1" failed: POST ${server.url}/v1/chat/completions failed after 1 attempt: HTTP 400`,
    );
  });

  it("reports per-variant means and the paired difference of shadow pairs", async () => {
    const judge = await judgeOn();
    const records = [
      shadow("p1", 1),
      shadow("p2", 2, { controlText: "Our policy says yes, return it within 30 days of delivery." }),
      shadow("p3", 3, { text: "Yes, you can return it." }),
      shadow("p4", 4),
      shadow("lone", 5, { controlText: undefined }),
    ];
    const scores = await judgeSlice(
      await readLiveSlice(writeLog("pairs.jsonl", records), options),
      judge,
      rubric,
    );
    const summary = summarizeLive(scores, rubric, 0.05);
    const [control, treatment] = summary.variants;
    expect([control?.source, control?.variant, control?.answers]).toEqual(["shadow", "control", 4]);
    expect([treatment?.variant, treatment?.answers]).toEqual(["treatment", 5]);
    expect(control?.axes[1]).toMatchObject({ axis: "policy_citation", n: 4, mean: 2 });
    expect(treatment?.axes[1]).toMatchObject({
      axis: "policy_citation",
      n: 5,
      mean: (5 + 5 + 1 + 5 + 5) / 5,
    });
    // p1..p4: treatment policy 5, 5, 1, 5 against control 1, 5, 1, 1.
    const ci = treatment?.axes[1]?.ci as [number, number];
    expect(ci[0]).toBeLessThan(4.2);
    expect(ci[1]).toBeGreaterThan(4.2);
    expect(summary.pairs).toHaveLength(1);
    expect(summary.pairs[0]).toMatchObject({ treatment: "treatment", control: "control", pairs: 4 });
    expect(summary.pairs[0]?.axes[1]).toEqual({
      axis: "policy_citation",
      diff: pairedDifference([5, 5, 1, 5], [1, 5, 1, 1], 0.05),
    });
  });
});

describe("judge scores as outcome records", () => {
  it("writes one outcome per answer and axis, with the judge and request id on every record", async () => {
    const judge = await judgeOn();
    const log = writeLog("records.jsonl", [
      shadow("s1", 1),
      exposure("u7", 2, { assigned: "treatment", variant: "control", state: "paused", text: "Okay." }),
    ]);
    const outcomes = judgedOutcomes(
      await judgeSlice(await readLiveSlice(log, options), judge, rubric),
      rubric,
    );
    const common = {
      type: "outcome",
      experiment: "duel",
      judge: judge.config,
      rubricHash: rubricHash(rubric),
    };
    expect(outcomes).toEqual([
      {
        ...common,
        t: iso(1),
        unit: "u-s1",
        variant: "control",
        metric: "judge_clarity",
        value: 5,
        requestId: "s1",
        shadow: true,
      },
      {
        ...common,
        t: iso(1),
        unit: "u-s1",
        variant: "control",
        metric: "judge_policy_citation",
        value: 1,
        requestId: "s1",
        shadow: true,
      },
      {
        ...common,
        t: iso(1),
        unit: "u-s1",
        variant: "treatment",
        metric: "judge_clarity",
        value: 3,
        requestId: "s1",
        shadow: true,
      },
      {
        ...common,
        t: iso(1),
        unit: "u-s1",
        variant: "treatment",
        metric: "judge_policy_citation",
        value: 5,
        requestId: "s1",
        shadow: true,
      },
      // Served by control while paused, attributed to the unit's assignment as the router does.
      {
        ...common,
        t: iso(2),
        unit: "u7",
        variant: "treatment",
        metric: "judge_clarity",
        value: 5,
        requestId: "u7-2",
      },
      {
        ...common,
        t: iso(2),
        unit: "u7",
        variant: "treatment",
        metric: "judge_policy_citation",
        value: 1,
        requestId: "u7-2",
      },
    ]);
  });

  it("merges the A/B scores into a copy of the log that analyze reads as a per-variant metric", async () => {
    const judge = await judgeOn();
    const records: unknown[] = [];
    const expected = { control: [] as number[], treatment: [] as number[] };
    for (let i = 0; i < 24; i++) {
      const assigned = i % 2 === 0 ? "control" : "treatment";
      const unit = `conv-${i}`;
      // Treatment cites the policy on every turn; control on one turn in three.
      const texts = [0, 1].map((turn) =>
        assigned === "treatment" || (i + turn) % 3 === 0
          ? `Per the Returns Policy, item ${i}.`
          : `Sure, item ${i}.`,
      );
      texts.forEach((text, turn) => {
        records.push(exposure(unit, 10 * i + turn, { assigned, text }));
      });
      records.push(outcome(unit, 10 * i + 5, "resolution_rate", i % 3 === 0 ? 0 : 1, assigned));
      expected[assigned].push(
        texts.filter((text) => text.includes("Policy")).length === 2
          ? 5
          : texts.some((text) => text.includes("Policy"))
            ? 3
            : 1,
      );
    }
    records.push(shadow("ignored", 999));
    const log = join(dir, "ab.jsonl");
    // The log ends mid-line as a running router's may; the merge must not glue a record onto it.
    writeFileSync(log, records.map((record) => JSON.stringify(record)).join("\n"));
    const outcomes = judgedOutcomes(
      await judgeSlice(await readLiveSlice(log, options), judge, rubric),
      rubric,
    );
    const merged = join(dir, "ab.merged.jsonl");
    const appended = await mergeOutcomes(log, merged, outcomes);
    expect(appended).toBe(24 * 2 * 2);
    const lines = readFileSync(merged, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(records.length + appended);
    expect(lines.slice(records.length).every((line) => !JSON.parse(line).shadow)).toBe(true);

    const spec = duelSpec({
      metrics: {
        primary: [{ name: "resolution_rate", kind: "binary", baseline: 0.6, mde: 0.05 }],
        secondary: [{ name: "judge_policy_citation", kind: "continuous" }],
      },
    });
    const report = await runAnalysis(spec, merged);
    const metric = report.metrics.find((m) => m.name === "judge_policy_citation");
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(metric?.role).toBe("secondary");
    expect(metric?.control).toEqual({ n: 12, mean: mean(expected.control) });
    expect(metric?.treatment).toEqual({ n: 12, mean: 5 });
    expect(metric?.pValue).not.toBeNull();
    expect(metric?.effect).toBeCloseTo(5 - mean(expected.control), 12);
  });
});
