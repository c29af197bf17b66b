import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { readStackConfig } from "../../cli/render.ts";
import { promisify, settle, setupPulumiMocks } from "../helpers/pulumi.ts";

// The entry point Pulumi runs: config first, then mocks, then the module (it runs on import).
const { config, secretKeys } = await readStackConfig(process.cwd(), "dev");
pulumi.runtime.setAllConfig(config, secretKeys);
const recorder = await setupPulumiMocks();
const stack = await import("../../stacks/index.ts");

describe("stacks/index.ts", () => {
  it("runs the dev stack under mocks and exports the router address, dashboard, rules and plan", async () => {
    await settle();
    expect(await promisify(stack.routerAddress)).toBe(
      "http://support-bot-model-swap-70b-router.llm-ab.svc.cluster.local:8080",
    );
    expect(await promisify(stack.dashboardUid)).toMatch(/\S/);
    expect((await promisify(stack.ruleNames)).length).toBeGreaterThan(0);
    expect(recorder.ofType("llm-ab:components:Experiment")).toHaveLength(1);
    expect(recorder.ofType("pulumi:providers:kubernetes")).toHaveLength(1);
  });
});
