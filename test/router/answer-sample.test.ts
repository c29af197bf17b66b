/**
 * `router.answerSamplePercent`: a share of exposures, chosen by request id, keeps the request's
 * messages and the answer's text for online judging; the rest keep neither.
 */
import { afterEach, describe, expect, it } from "vitest";
import { answerSampled } from "../../router/exchange.ts";
import type { ExposureRecord } from "../../router/records.ts";
import {
  chatBody,
  chatTurn,
  memoryRecords,
  RouterHarness,
  testSpec,
  unitsOf,
} from "../helpers/router-harness.ts";

const harness = new RouterHarness();
afterEach(() => harness.cleanup());

async function exposures(percent: number, turns: number, stream: boolean): Promise<ExposureRecord[]> {
  const up = await harness.upstream({ tokens: ["Your", " order", " ships", " today."] });
  const spec = testSpec(
    [up.url],
    [["rollout", "treatmentPercent"], 50],
    [["router", "answerSamplePercent"], percent],
  );
  const sink = memoryRecords();
  const { proxyUrl } = await harness.app({ spec, records: sink });
  const [unit] = unitsOf(spec, "treatment", 1);
  for (let turn = 0; turn < turns; turn++) await chatTurn(proxyUrl, unit, stream);
  return sink.records.filter((record): record is ExposureRecord => record.type === "exposure");
}

describe("answer sampling", () => {
  it.each([true, false])(
    "keeps the messages and the text the client got at 100 %% (stream %s)",
    async (stream) => {
      const [record] = await exposures(100, 1, stream);
      expect(record?.text).toBe("Your order ships today.");
      // The application's messages, as it sent them (before the variant's system prompt replaced its own).
      expect(record?.messages).toEqual(chatBody("Hi", stream).messages);
    },
  );

  it("keeps neither at 0 %, the default", async () => {
    for (const record of await exposures(0, 3, true)) {
      expect(record).not.toHaveProperty("text");
      expect(record).not.toHaveProperty("messages");
    }
  });

  it("samples by request id: the same id always, a share of ids close to the percent", () => {
    expect(answerSampled(10, "req-1")).toBe(answerSampled(10, "req-1"));
    const n = 20_000;
    let kept = 0;
    for (let i = 0; i < n; i++) if (answerSampled(10, `req-${i}`)) kept++;
    // Binomial(20000, 0.1): sd ≈ 42; 5 sd either side.
    expect(Math.abs(kept - n * 0.1)).toBeLessThan(5 * Math.sqrt(n * 0.1 * 0.9));
    expect(answerSampled(0, "req-1")).toBe(false);
  });
});
