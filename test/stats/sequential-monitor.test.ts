import { describe, expect, it } from "vitest";
import { groupSequentialDesign } from "../../stats/group-sequential.ts";
import { evaluateLook, SequentialMonitor } from "../../stats/sequential-monitor.ts";

const design = groupSequentialDesign({
  looks: [0.25, 0.5, 0.75, 1],
  alpha: 0.05,
  spending: "obrien-fleming",
});
const [b1, b2, b3, b4] = design.boundaries as [number, number, number, number];
const REGISTERED = /registered looks: #1 at t=0\.25, #2 at t=0\.5, #3 at t=0\.75, #4 at t=1/;

describe("evaluateLook", () => {
  it.each([
    {
      name: "continues below an interim boundary",
      index: 1,
      z: 3.5,
      decision: "continue",
      reason: /continue to look #2 \(t=0\.5\)/,
    },
    {
      name: "rejects above an interim boundary",
      index: 2,
      z: 3.1,
      decision: "reject",
      reason: /stop and reject the null/,
    },
    {
      name: "rejects a large negative z (two-sided)",
      index: 3,
      z: -2.5,
      decision: "reject",
      reason: /\|z\| = 2\.500/,
    },
    { name: "rejects exactly on the boundary", index: 4, z: b4, decision: "reject", reason: /look #4 of 4/ },
    {
      name: "accepts at the final look without a crossing",
      index: 4,
      z: 1.99,
      decision: "accept",
      reason: /final look #4/,
    },
    { name: "continues at z = 0", index: 3, z: 0, decision: "continue", reason: /< boundary 2\.3590/ },
  ])("$name", ({ index, z, decision, reason }) => {
    const result = evaluateLook(design, { index }, z);
    expect(result.decision).toBe(decision);
    expect(result.reason).toMatch(reason);
    expect(result.look).toBe(index);
    expect(result.informationFraction).toBe(design.looks[index - 1]);
    expect(result.boundary).toBe(design.boundaries[index - 1]);
    expect(result.z).toBe(z);
  });

  it("finds a look by its information fraction, within 1e-9", () => {
    expect(evaluateLook(design, { fraction: 0.5 }, 1)).toEqual(evaluateLook(design, { index: 2 }, 1));
    expect(evaluateLook(design, { fraction: 0.75 + 5e-10 }, 1).look).toBe(3);
    expect(evaluateLook(design, { index: 3, fraction: 0.75 }, 1).look).toBe(3);
  });

  it("holds interim looks to their own boundaries", () => {
    expect(b1).toBeGreaterThan(b2);
    expect(b2).toBeGreaterThan(b3);
    expect(evaluateLook(design, { index: 1 }, b2).decision).toBe("continue");
    expect(evaluateLook(design, { index: 2 }, b2).decision).toBe("reject");
  });

  it.each([
    {
      name: "an index past the last look",
      look: { index: 5 },
      message: /look index 5 is not a registered look/,
    },
    { name: "index 0", look: { index: 0 }, message: /look index 0 is not a registered look/ },
    { name: "a fractional index", look: { index: 1.5 }, message: /look index 1\.5/ },
    {
      name: "an unregistered fraction",
      look: { fraction: 0.6 },
      message: /information fraction 0\.6 is not a registered look/,
    },
    {
      name: "a fraction just outside the tolerance",
      look: { fraction: 0.25 + 1e-8 },
      message: /not a registered look/,
    },
    {
      name: "an index and fraction that disagree",
      look: { index: 1, fraction: 0.5 },
      message: /name different looks/,
    },
    {
      name: "neither an index nor a fraction",
      look: {},
      message: /needs an index or an information fraction/,
    },
  ])("refuses $name and lists the registered looks", ({ look, message }) => {
    expect(() => evaluateLook(design, look, 1)).toThrow(message);
    expect(() => evaluateLook(design, look, 1)).toThrow(REGISTERED);
  });

  it("refuses a z that is not a finite number", () => {
    expect(() => evaluateLook(design, { index: 1 }, Number.NaN)).toThrow(
      /z at look #1 must be a finite number/,
    );
  });
});

describe("SequentialMonitor", () => {
  it("continues until a boundary is crossed, then stops", () => {
    const monitor = new SequentialMonitor(design);
    expect(monitor.look(0.25, 2.5).decision).toBe("continue");
    expect(monitor.look(0.5, 2.0).decision).toBe("continue");
    expect(monitor.stopped).toBeUndefined();
    const stop = monitor.look(0.75, b3 + 0.01);
    expect(stop.decision).toBe("reject");
    expect(monitor.stopped).toEqual(stop);
    expect(monitor.history.map((d) => d.decision)).toEqual(["continue", "continue", "reject"]);
  });

  it("refuses a look after a rejection", () => {
    const monitor = new SequentialMonitor(design);
    monitor.look(0.25, 4.5);
    expect(() => monitor.look(0.5, 0)).toThrow(/monitoring already stopped at look #1 \(t=0\.25, reject\)/);
    expect(() => monitor.look(0.5, 0)).toThrow(REGISTERED);
  });

  it("accepts at the final look and refuses anything after", () => {
    const monitor = new SequentialMonitor(design);
    for (const t of [0.25, 0.5, 0.75]) expect(monitor.look(t, 1).decision).toBe("continue");
    expect(monitor.look(1, 1).decision).toBe("accept");
    expect(() => monitor.look(1, 3)).toThrow(/already stopped at look #4 \(t=1, accept\)/);
  });

  it.each([
    { name: "repeats a look", second: 0.5, message: /look #2 \(t=0\.5\) was already taken/ },
    {
      name: "goes back to an earlier look",
      second: 0.25,
      message: /look #1 \(t=0\.25\) comes before look #2/,
    },
  ])("refuses a sequence that $name", ({ second, message }) => {
    const monitor = new SequentialMonitor(design);
    monitor.look(0.5, 1);
    expect(() => monitor.look(second, 1)).toThrow(message);
    expect(() => monitor.look(second, 1)).toThrow(REGISTERED);
    expect(monitor.history).toHaveLength(1);
  });

  it("allows skipping a registered look, leaving its alpha unspent", () => {
    const monitor = new SequentialMonitor(design);
    expect(monitor.look(0.25, 1).decision).toBe("continue");
    expect(monitor.look(0.75, 1).decision).toBe("continue");
    expect(monitor.look(1, 2.1).decision).toBe("reject");
  });

  it("refuses an unregistered fraction without recording it", () => {
    const monitor = new SequentialMonitor(design);
    expect(() => monitor.look(0.3, 1)).toThrow(/information fraction 0\.3 is not a registered look/);
    expect(monitor.history).toHaveLength(0);
    expect(monitor.look(0.25, 1).look).toBe(1);
  });
});
