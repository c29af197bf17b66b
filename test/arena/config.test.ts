import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAudit, parseAudit } from "../../arena/audit.ts";
import { loadArenaConfig } from "../../arena/config.ts";
import { loadDataset } from "../../arena/dataset.ts";
import { loadRubric } from "../../arena/rubric.ts";
import { loadSpecFile } from "../../spec/load.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "llm-ab-arena-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the example arena config", () => {
  it("loads with every file it names, paths resolved beside it", async () => {
    const config = await loadArenaConfig("examples/arena/support-bot.arena.yaml");
    expect(config.spec).toBe(resolve("examples/support-bot-policy-prompt.yaml"));
    expect(config.cache).toBe(resolve(".llm-ab/arena-cache"));
    const spec = await loadSpecFile(config.spec);
    const { cases } = await loadDataset(config.dataset);
    const rubric = await loadRubric(config.rubric);
    const audit = await loadAudit(
      config.audit ?? "",
      cases.map((c) => c.id),
    );
    expect(spec.name).toBe("support-bot-policy-prompt");
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(rubric.axes.map((a) => a.name)).toEqual(["clarity", "accuracy", "policy_citation"]);
    expect(audit.length).toBeGreaterThanOrEqual(30);
    expect(config.checks).toHaveLength(2);
  });
});

describe("loadArenaConfig", () => {
  it("reports every problem with its field, naming the file", async () => {
    const path = join(dir, "bad.yaml");
    await writeFile(
      path,
      "spec: s.yaml\ndataset: d.jsonl\njudge: { url: ftp://x, model: j }\nconcurrency: 0\nextra: 1\n",
    );
    const message = await loadArenaConfig(path).then(
      () => "loaded",
      (e: Error) => e.message,
    );
    expect(message).toContain(path);
    for (const field of ["rubric", "judge.url", "concurrency", "extra"]) expect(message).toContain(field);
  });

  it("names the line and column of a YAML syntax error", async () => {
    const path = join(dir, "syntax.yaml");
    await writeFile(path, "spec: [unclosed\n");
    await expect(loadArenaConfig(path)).rejects.toThrow(/line \d+, column \d+/);
  });
});

describe("audit labels", () => {
  const ids = ["late-package", "double-charge"];

  it("reads one label per line", () => {
    const labels = parseAudit(
      '{"caseId":"late-package","preferred":"tie"}\n\n{"caseId":"double-charge","preferred":"control"}\n',
      "a.jsonl",
      ids,
    );
    expect(labels).toEqual([
      { caseId: "late-package", preferred: "tie" },
      { caseId: "double-charge", preferred: "control" },
    ]);
  });

  it.each([
    [
      '{"caseId":"late-pakage","preferred":"tie"}',
      'a.jsonl:1: caseId: no case "late-pakage" in the dataset (did you mean "late-package"?)',
    ],
    [
      '{"caseId":"late-package","preferred":"A"}',
      'a.jsonl:1: preferred: must be "treatment", "control" or "tie"',
    ],
    ['{"caseId":"late-package"', "a.jsonl:1:"],
    [
      '{"caseId":"late-package","preferred":"tie"}\n{"caseId":"late-package","preferred":"tie"}',
      'a.jsonl:2: caseId: "late-package" is labelled twice (first on line 1)',
    ],
    ["", "a.jsonl: the file holds no labels"],
  ])("refuses %j, saying where", (text, message) => {
    expect(() => parseAudit(text, "a.jsonl", ids)).toThrow(message);
  });
});
