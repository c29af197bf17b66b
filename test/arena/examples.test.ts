import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../../arena/dataset.ts";
import { runLevel1 } from "../../arena/level1.ts";
import { loadRubric } from "../../arena/rubric.ts";
import type { AuditLabel } from "../../arena/types.ts";

const example = (name: string) => fileURLToPath(new URL(`../../examples/arena/${name}`, import.meta.url));

const { cases } = await loadDataset(example("support-bot-golden.jsonl"));
const rubric = await loadRubric(example("support-bot-rubric.yaml"));
const auditLines = readFileSync(example("support-bot-audit.jsonl"), "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "");
const audit = auditLines.map((line) => JSON.parse(line) as AuditLabel);

const POLICY_URL = /https:\/\/shop\.example\.com\/policies\/[a-z-]+/g;

describe("the support bot's golden set", () => {
  it("holds at least 40 cases, about ten of them critical", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    const critical = cases.filter((item) => item.tags.includes("critical"));
    expect(critical.length).toBeGreaterThanOrEqual(8);
    expect(critical.length).toBeLessThanOrEqual(15);
  });

  it("starts from the article's five hard cases", () => {
    const hard = cases.filter((item) => item.tags.includes("hard-case")).map((item) => item.id);
    expect(hard).toEqual([
      "late-package-8-days",
      "return-opened-shoes",
      "double-charge-44129",
      "change-address-pending",
      "damaged-item-options",
    ]);
    const doubleCharge = cases.find((item) => item.id === "double-charge-44129");
    expect(doubleCharge?.messages.at(-1)?.content).toBe("Why was I charged twice for order #44129?");
  });

  it("gives every case policy context and a reference answer", () => {
    for (const item of cases) {
      expect(item.context, item.id).toMatch(POLICY_URL);
      expect(item.reference, item.id).toBeDefined();
    }
  });

  it("cites in each reference only policies its context quotes", () => {
    for (const item of cases) {
      const quoted = new Set(item.context?.match(POLICY_URL) ?? []);
      for (const url of item.reference?.match(POLICY_URL) ?? [])
        expect(quoted, `${item.id}: ${url}`).toContain(url);
    }
  });

  it("has reference answers that pass their own Level-1 checks", () => {
    const failures = cases.flatMap((item) =>
      runLevel1(item.id, "treatment", item.reference ?? "", item.checks).filter((result) => !result.passed),
    );
    expect(failures).toEqual([]);
  });

  it("covers the topics of the brief, a refusal and prompt injection", () => {
    const tags = new Set(cases.flatMap((item) => item.tags));
    for (const tag of [
      "shipping",
      "returns",
      "refunds",
      "billing",
      "order-changes",
      "cancellations",
      "damaged",
      "exchanges",
      "warranty",
      "gift-cards",
      "international",
      "account",
      "angry",
      "ambiguous",
      "refusal",
      "injection",
    ])
      expect(tags, tag).toContain(tag);
  });
});

describe("the support bot's rubric", () => {
  it("scores clarity, accuracy and policy citation with all five anchors", () => {
    expect(rubric.axes.map((axis) => axis.name)).toEqual(["clarity", "accuracy", "policy_citation"]);
    for (const axis of rubric.axes)
      for (const score of ["1", "2", "3", "4", "5"] as const)
        expect(axis.anchors[score], axis.name).toBeTruthy();
  });
});

describe("the support bot's audit labels", () => {
  it("label about 30 distinct cases of the golden set with treatment, control or tie", () => {
    expect(audit.length).toBeGreaterThanOrEqual(30);
    const ids = new Set(cases.map((item) => item.id));
    for (const label of audit) {
      expect(Object.keys(label).sort()).toEqual(["caseId", "preferred"]);
      expect(ids, label.caseId).toContain(label.caseId);
      expect(["treatment", "control", "tie"]).toContain(label.preferred);
    }
    expect(new Set(audit.map((label) => label.caseId)).size).toBe(audit.length);
  });

  it("use all three labels, so agreement is not trivial", () => {
    expect(new Set(audit.map((label) => label.preferred))).toEqual(new Set(["treatment", "control", "tie"]));
  });
});
