import { describe, expect, it } from "vitest";
import { requestCostUsd } from "../../router/pricing.ts";

describe("request cost", () => {
  it.each([
    ["prompt and completion at their own prices", { promptTokens: 1000, completionTokens: 500 }, 0.0004],
    ["no tokens cost nothing", { promptTokens: 0, completionTokens: 0 }, 0],
    ["a million output tokens cost the output price", { promptTokens: 0, completionTokens: 1_000_000 }, 0.6],
  ])("%s", (_, usage, expected) => {
    const price = { inputPerMillionTokens: 0.1, outputPerMillionTokens: 0.6 };
    expect(requestCostUsd(price, usage)).toBeCloseTo(expected, 12);
  });

  it("is unknown, not zero, without a price or without usage", () => {
    expect(requestCostUsd(undefined, { promptTokens: 10, completionTokens: 10 })).toBeUndefined();
    expect(
      requestCostUsd({ inputPerMillionTokens: 1, outputPerMillionTokens: 1 }, undefined),
    ).toBeUndefined();
  });
});
