/** `llm-ab arena judge-live`: a scripted judge over small hand-written router logs. */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { sampleShare } from "../../arena/live.ts";
import { registerArenaLive } from "../../cli/arena-live.ts";
import { CliError } from "../../cli/errors.ts";
import { exposureRecord, iso, shadowRecord, writeLog as writeLogIn } from "../arena/live-records.ts";
import { type ArenaServer, lastUserText, startArenaServer, tagged } from "../helpers/arena-server.ts";
import type { CliRun } from "../helpers/cli.ts";
import { runCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/unit-data.ts";

const dir = tempDir("llm-ab-judge-live-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `llm-ab arena judge-live ...` on a program holding only this command, as cli/main.ts runs one. */
async function judgeLive(...args: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const io = {
    out: (text: string) => {
      stdout += text;
    },
    err: (text: string) => {
      stderr += text;
    },
  };
  const program = new Command("llm-ab")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  registerArenaLive(program.command("arena"), io);
  let code = 0;
  try {
    await program.parseAsync(["node", "llm-ab", "arena", "judge-live", ...args]);
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode;
    else if (error instanceof CliError) {
      stderr += `${error.message}\n`;
      code = error.exitCode;
    } else throw error;
  }
  return { code, stdout, stderr };
}

const spec = {
  name: "duel",
  hypothesis: "citing the policy helps",
  unit: "conversation",
  rollout: { mode: "ab", treatmentPercent: 50 },
  variants: {
    control: { deployment: "chat" },
    treatment: { deployment: "chat", systemPrompt: "Cite the policy." },
  },
  deployments: { chat: { image: "vllm/vllm-openai:v0.11.0", model: "m" } },
  metrics: {
    primary: [{ name: "resolution_rate", kind: "binary", baseline: 0.6, mde: 0.05 }],
    secondary: [{ name: "judge_policy_citation", kind: "continuous" }],
  },
};

const rubric = {
  name: "support",
  axes: ["clarity", "policy_citation"].map((name) => ({
    name,
    description: `how good the ${name} is`,
    anchors: { 1: "poor", 3: "fair", 5: "excellent" },
  })),
};

let server: ArenaServer;
let config: string;
beforeEach(async () => {
  server = await startArenaServer({
    judge: (body) => {
      const answer = tagged(lastUserText(body), "answer") ?? "";
      const policy_citation = /policy/i.test(answer) ? 5 : 1;
      return JSON.stringify({ scores: { clarity: 4, policy_citation }, reason: "scripted" });
    },
  });
  // JSON is YAML: the config and rubric are written as JSON.
  writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
  writeFileSync(join(dir, "rubric.yaml"), JSON.stringify(rubric));
  config = join(dir, "arena.yaml");
  writeFileSync(
    config,
    JSON.stringify({
      spec: "spec.json",
      dataset: "golden.jsonl",
      rubric: "rubric.yaml",
      judge: { url: server.url, model: "judge" },
      cache: `cache-${Date.now()}-${Math.random()}`,
      retries: 0,
    }),
  );
});
afterEach(async () => {
  await server.stop();
});

const shadow = (requestId: string, s: number, text: string, controlText: string) =>
  shadowRecord(requestId, s, { text, controlText });
const exposure = (unit: string, s: number, assigned: string, text?: string) =>
  exposureRecord(unit, s, { assigned, ...(text === undefined ? {} : { text }) });

const writeLog = (name: string, records: readonly unknown[]) => writeLogIn(dir, name, records);

/** Six shadow pairs: the treatment cites the policy on all, control on the first two. */
const shadowLog = () =>
  writeLog(
    "shadow.jsonl",
    Array.from({ length: 6 }, (_, i) =>
      shadow(
        `r${i}`,
        i,
        `Per the Returns Policy, yes (${i}).`,
        i < 2 ? `Policy says yes (${i}).` : `Yes (${i}).`,
      ),
    ),
  );

/** An A/B log whose exposures carry answer text: treatment cites the policy, control once in five. */
const abLog = () => {
  const records: unknown[] = [];
  for (let i = 0; i < 10; i++) {
    const assigned = i % 2 === 0 ? "control" : "treatment";
    records.push(
      exposure(
        `c${i}`,
        i,
        assigned,
        assigned === "treatment" ? "See the Returns Policy §2." : i === 0 ? "Policy says yes." : "Sure.",
      ),
      {
        type: "outcome",
        t: iso(i + 0.5),
        experiment: "duel",
        unit: `c${i}`,
        variant: assigned,
        metric: "resolution_rate",
        value: i % 3 ? 1 : 0,
      },
    );
  }
  return writeLog("ab.jsonl", records);
};

describe("llm-ab arena judge-live", () => {
  it("judges a shadow log's pairs and prints the counts, the means and the paired difference", async () => {
    const log = shadowLog();
    const run = await judgeLive(config, "--log", log, "--sample", "1");
    expect(run.stderr).toBe("judge-live: 12/12 answers judged\n");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `${log}: 6 records read, 6 with answer text (0 exposures, 6 shadow), 6 sampled, 6 judged (12 answers)`,
    );
    expect(run.stdout).toContain("Shadow answers (no user saw the treatment's): mean score with 95 % CI");
    expect(run.stdout).toMatch(/control\s+6\s+4\.00 \[4\.00, 4\.00\]\s+2\.33 \[/);
    expect(run.stdout).toMatch(/treatment\s+6\s+4\.00 \[4\.00, 4\.00\]\s+5\.00 \[5\.00, 5\.00\]/);
    expect(run.stdout).toContain(
      "Shadow pairs, treatment − control on the same requests (paired t, 95 % CI):",
    );
    expect(run.stdout).toMatch(/policy_citation\s+6 pairs\s+\+2\.67 \[\+0\.\d\d, \+4\.\d\d\]\s+p = 0\.0/);
    expect(run.stdout).toMatch(/clarity\s+6 pairs\s+\+0\.00 \[\+0\.00, \+0\.00\]/);

    const out = `${log}.judged.jsonl`;
    const records = readFileSync(out, "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(records).toHaveLength(24);
    expect(records.every((r) => r.type === "outcome" && r.shadow === true && r.judge.model === "judge")).toBe(
      true,
    );
    expect(new Set(records.map((r) => r.metric))).toEqual(
      new Set(["judge_clarity", "judge_policy_citation"]),
    );
  });

  it("judges the same slice on a rerun, from the cache, and caps it with --max", async () => {
    const log = shadowLog();
    const first = await judgeLive(config, "--log", log, "--sample", "0.5", "--json");
    const calls = server.calls().length;
    const again = await judgeLive(config, "--log", log, "--sample", "0.5", "--json");
    expect(server.calls().length).toBe(calls);
    expect(again.stdout).toBe(first.stdout);
    const ids = Array.from({ length: 6 }, (_, i) => `r${i}`);
    const half = ids.filter((id) => sampleShare(id) < 0.5);
    expect(JSON.parse(first.stdout)).toMatchObject({
      read: 6,
      sampled: half.length,
      judgedRecords: half.length,
    });

    const capped = JSON.parse(
      (await judgeLive(config, "--log", log, "--sample", "1", "--max", "2", "--json")).stdout,
    );
    expect(capped).toMatchObject({ sampled: 6, judgedRecords: 2, judgedAnswers: 4 });
    expect(capped.summary.pairs[0].pairs).toBe(2);
  });

  it("merges an A/B log's scores for analyze, which reports the judge metric per variant", async () => {
    const log = abLog();
    const merged = join(dir, "ab.merged.jsonl");
    const out = join(dir, "ab.scores.jsonl");
    const run = await judgeLive(
      config,
      "--log",
      log,
      "--sample",
      "1",
      "--out",
      out,
      "--merge",
      merged,
      "--no-progress",
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("A/B answers, by the variant that served them: mean score with 95 % CI");
    expect(run.stdout).toContain(`wrote ${merged}: the log with 20 judge outcomes appended`);
    expect(readFileSync(out, "utf8").trimEnd().split("\n")).toHaveLength(20);

    const analysis = await runCli("analyze", join(dir, "spec.json"), "--data", merged, "--json");
    expect(analysis.stderr).toBe("");
    const metric = JSON.parse(analysis.stdout).metrics.find(
      (m: { name: string }) => m.name === "judge_policy_citation",
    );
    expect(metric).toMatchObject({ control: { n: 5, mean: 1.8 }, treatment: { n: 5, mean: 5 } });
    expect(metric.effect).toBeCloseTo(3.2, 12);
  });

  it("says there is nothing to judge in an A/B log whose exposures carry no text", async () => {
    const log = writeLog("plain.jsonl", [exposure("c1", 1, "control"), exposure("c2", 2, "treatment")]);
    const run = await judgeLive(config, "--log", log, "--sample", "1");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${log}: 2 records read, 0 with answer text`);
    expect(run.stdout).toContain("nothing to judge: no sampled record carries answer text");
    expect(readFileSync(`${log}.judged.jsonl`, "utf8")).toBe("");
    expect(server.calls()).toHaveLength(0);
  });

  it("refuses to merge a shadow log, whose treatment served nobody", async () => {
    const log = shadowLog();
    const merged = join(dir, "shadow.merged.jsonl");
    const run = await judgeLive(config, "--log", log, "--merge", merged);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `--merge: ${log} has no A/B exposures with answer text (only 6 shadow records)`,
    );
    expect(run.stderr).toContain("refuses shadow specs");
    expect(existsSync(merged)).toBe(false);
    expect(server.calls()).toHaveLength(0);
  });

  it("names the log file, line and field of a bad record", async () => {
    const log = join(dir, "bad.jsonl");
    writeFileSync(
      log,
      `${JSON.stringify(shadow("a", 1, "x", "y"))}\n${JSON.stringify({ ...shadow("b", 2, "x", "y"), status: "ok" })}\n`,
    );
    const run = await judgeLive(config, "--log", log);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(`^${log}:2 \\(status\\): expected the mirrored call's HTTP status`),
    );
  });

  it("refuses a log of another experiment than the config's spec", async () => {
    const log = writeLog("other.jsonl", [{ ...shadow("a", 1, "x", "y"), experiment: "other" }]);
    const run = await judgeLive(config, "--log", log);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${log}:1: the log is experiment "other" but`);
  });

  it.each([
    [["--sample", "0"], /expected a share in \(0, 1\]/],
    [["--sample", "1.5"], /expected a share in \(0, 1\]/],
    [["--max", "0"], /expected a positive whole number/],
  ])("rejects the option %j", async (args, message) => {
    const run = await judgeLive(config, "--log", shadowLog(), ...args);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
  });

  it("will not write the judged records over the log", async () => {
    const log = shadowLog();
    const run = await judgeLive(config, "--log", log, "--out", log);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("is the log itself");
  });

  it("says which output it cannot write", async () => {
    const out = join(dir, "no-such-dir", "scores.jsonl");
    const run = await judgeLive(config, "--log", shadowLog(), "--sample", "1", "--out", out);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot write ${out}: ENOENT`);
  });
});
