import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { DataError } from "../../analysis/aggregate.ts";
import { runAnalysis } from "../../analysis/analyze.ts";
import { duelSpec, tempDir } from "../helpers/unit-data.ts";

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Mostly well-formed records, with every field sometimes replaced by something wrong. */
const value = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, 1) },
  { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }) },
  { weight: 1, arbitrary: fc.jsonValue() },
);
const record = fc.record(
  {
    unit: fc.oneof({ weight: 8, arbitrary: fc.uuid() }, { weight: 1, arbitrary: fc.jsonValue() }),
    variant: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom("control", "treatment") },
      { weight: 1, arbitrary: fc.jsonValue() },
    ),
    metrics: fc.oneof(
      {
        weight: 8,
        arbitrary: fc.record({ resolution_rate: value, response_tokens: value }, { requiredKeys: [] }),
      },
      { weight: 1, arbitrary: fc.jsonValue() },
    ),
    segments: fc.record({ region: fc.constantFrom("eu", "us", "apac") }),
    pre: fc.record({ response_tokens: value }, { requiredKeys: [] }),
  },
  { requiredKeys: ["variant"] },
);
const line = fc.oneof(
  { weight: 12, arbitrary: record.map((r) => JSON.stringify(r)) },
  { weight: 1, arbitrary: fc.string() },
);

describe("analyze on arbitrary data files", () => {
  it("returns a report or a DataError/RangeError naming the file, never crashes", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 0, maxLength: 40 }),
        fc.constantFrom("jsonl", "csv"),
        async (lines, format) => {
          const path = join(dir, `case-${n++}.${format}`);
          const body =
            format === "jsonl"
              ? lines.join("\n")
              : [
                  "unit,variant,resolution_rate,response_tokens,segment.region,pre.response_tokens",
                  ...lines.map((l) => l.replaceAll("\n", " ")),
                ].join("\n");
          writeFileSync(path, body);
          try {
            const report = await runAnalysis(duelSpec(), path);
            expect(["ship", "hold", "rollback", "keep running", "inconclusive"]).toContain(report.verdict);
          } catch (error) {
            if (error instanceof DataError) {
              expect(error.problems.length).toBeGreaterThan(0);
              expect(error.message).toContain(path);
            } else if (!(error instanceof RangeError)) {
              throw error;
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
