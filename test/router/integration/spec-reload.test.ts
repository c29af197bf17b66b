/**
 * Spec reload through the file watcher of a whole router: a valid change applies without a
 * restart, an invalid one is rejected with a log line naming its problems and the old spec stays.
 */
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  captureLogger,
  chatTurn,
  eventually,
  RouterHarness,
  sample,
  send,
  specInput,
  systemPromptOf,
} from "../../helpers/router-harness.ts";

const harness = new RouterHarness();
afterEach(() => harness.cleanup());

async function setup() {
  const up = await harness.upstream({ tokens: ["ok"] });
  const specPath = harness.writeSpec(specInput([up.url]));
  const { logger, lines } = captureLogger();
  const router = await harness.router({
    specPath,
    watch: true,
    logger,
    context: { processMetrics: false },
  });
  const fraction = async () =>
    sample((await send(`${router.adminUrl}/metrics`)).body.toString(), "llmab_treatment_fraction", {
      variant: "treatment",
    });
  return { up, specPath, router, lines, fraction };
}

describe("editing the spec file", () => {
  it("applies a valid change (a new percent and a new prompt) without a restart", async () => {
    const { up, router, fraction } = await setup();
    expect(await fraction()).toBe(0.1);
    harness.writeSpec(
      specInput(
        [up.url],
        [["rollout", "treatmentPercent"], 50],
        [["variants", "control", "systemPrompt"], "Be helpful and brief."],
      ),
    );
    await eventually("the watcher applied the new spec", async () => (await fraction()) === 0.5);
    expect(router.context.runtime.spec.rollout.treatmentPercent).toBe(50);
    await chatTurn(router.proxyUrl, undefined);
    expect(systemPromptOf(up.requests.at(-1))).toBe("Be helpful and brief.");
  });

  it("follows a Kubernetes ConfigMap update, which swaps a ..data symlink instead of writing the file", async () => {
    const up = await harness.upstream({ tokens: ["ok"] });
    const dir = join(harness.tempDir(), "configmap");
    const version = (name: string, percent: number) => {
      mkdirSync(join(dir, name), { recursive: true });
      writeFileSync(
        join(dir, name, "spec.json"),
        JSON.stringify(specInput([up.url], [["rollout", "treatmentPercent"], percent])),
      );
    };
    version("..v1", 10);
    symlinkSync("..v1", join(dir, "..data"));
    symlinkSync("..data/spec.json", join(dir, "spec.json"));
    const router = await harness.router({ specPath: join(dir, "spec.json"), watch: true });
    version("..v2", 30);
    symlinkSync("..v2", join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    await eventually(
      "the new ConfigMap version is applied",
      () => router.context.runtime.spec.rollout.treatmentPercent === 30,
    );
  });

  it("rejects an invalid spec with a log line naming the problems, and keeps serving the old one", async () => {
    const { up, router, lines, fraction } = await setup();
    harness.writeSpec(specInput([up.url], [["rollout", "treatmentPercent"], 150]));
    await eventually("the rejection is logged", () =>
      lines.some((line) => String(line.msg).startsWith("spec reload rejected")),
    );
    const rejection = lines.find((line) => String(line.msg).startsWith("spec reload rejected"));
    expect(rejection?.level).toBe(50);
    expect(String(rejection?.msg)).toContain("rollout.treatmentPercent");
    expect(await fraction()).toBe(0.1);
    expect((await chatTurn(router.proxyUrl, "u-1")).status).toBe(200);
  });

  it("rejects a spec that renames the experiment, which needs another router", async () => {
    const { up, router, lines } = await setup();
    harness.writeSpec(specInput([up.url], [["name"], "another-experiment"]));
    expect(await router.reload()).toBe(false);
    expect(lines.some((line) => String(line.msg).includes("a router serves one experiment"))).toBe(true);
    expect(router.context.runtime.spec.name).toBe("support-bot-policy-prompt");
  });

  it("keeps replicas warm across a reload that leaves their deployment as it was", async () => {
    const { up, router } = await setup();
    const before = router.context.runtime.replicas.get("chat-8b");
    harness.writeSpec(specInput([up.url], [["rollout", "treatmentPercent"], 20]));
    expect(await router.reload()).toBe(true);
    expect(router.context.runtime.replicas.get("chat-8b")).toBe(before);
  });
});
