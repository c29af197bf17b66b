import { describe, expect, it } from "vitest";
import { RequestTimer, timePerOutputToken } from "../../router/timing.ts";

describe("request timing", () => {
  it("measures TTFT to the first content token, every ITL gap, e2e and TPOT from usage", () => {
    const timer = new RequestTimer(10);
    for (const at of [10.25, 10.27, 10.3, 10.32]) timer.arrival(at);
    const timing = timer.finish(10.4, 5);
    expect(timing.ttft).toBeCloseTo(0.25, 12);
    expect(timing.itl.map((gap) => Number(gap.toFixed(9)))).toEqual([0.02, 0.03, 0.02]);
    expect(timing.e2e).toBeCloseTo(0.4, 12);
    // (e2e − TTFT) / (tokens − 1) = 0.15 / 4
    expect(timing.tpot).toBeCloseTo(0.0375, 12);
    expect(timing.outputTokens).toBe(5);
    expect(timing.outputTokensSource).toBe("usage");
    expect(timing.contentEvents).toBe(4);
  });

  it("counts events read together as one arrival: one gap, several events", () => {
    const timer = new RequestTimer(0);
    timer.arrival(0.1, 1);
    timer.arrival(0.2, 3);
    const timing = timer.finish(0.3);
    expect(timing.itl).toHaveLength(1);
    expect(timing.contentEvents).toBe(4);
  });

  it("estimates output tokens from content events when the upstream sent no usage", () => {
    const timer = new RequestTimer(0);
    for (const at of [0.1, 0.2, 0.3]) timer.arrival(at);
    const timing = timer.finish(0.3);
    expect(timing.outputTokens).toBe(3);
    expect(timing.outputTokensSource).toBe("events");
    expect(timing.tpot).toBeCloseTo(0.1, 12);
  });

  it("leaves TTFT, ITL and TPOT undefined when no token arrived (a non-streamed or failed answer)", () => {
    const timing = new RequestTimer(1).finish(3, 50);
    expect(timing.ttft).toBeUndefined();
    expect(timing.tpot).toBeUndefined();
    expect(timing.itl).toEqual([]);
    expect(timing.e2e).toBe(2);
    expect(new RequestTimer(0).finish(1).outputTokensSource).toBeUndefined();
  });

  it.each([
    [1, 0.5, 1, undefined],
    [1, 0.5, 0, undefined],
    [1, undefined, 10, undefined],
    [1, 0.5, undefined, undefined],
    [1, 0.5, 2, 0.5],
    [2.5, 0.5, 101, 0.02],
  ])("TPOT(e2e %s, TTFT %s, %s tokens) is %s", (e2e, ttft, tokens, expected) => {
    const tpot = timePerOutputToken(e2e, ttft, tokens);
    if (expected === undefined) expect(tpot).toBeUndefined();
    else expect(tpot).toBeCloseTo(expected, 12);
  });
});
