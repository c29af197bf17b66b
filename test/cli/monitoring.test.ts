import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { alertmanagerYaml } from "../../monitoring/alertmanager.ts";
import { dashboardJson } from "../../monitoring/dashboard.ts";
import { rulesYaml } from "../../monitoring/rules.ts";
import { loadSpecFile } from "../../spec/load.ts";
import { amtool } from "../helpers/alertmanager.ts";
import { runCli } from "../helpers/cli.ts";
import { checkRules } from "../helpers/promtool.ts";
import { tempDir } from "../helpers/unit-data.ts";
import { examplePaths } from "../spec/spec-fixtures.ts";

const dir = tempDir("llm-ab-monitoring-cli-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (...parts: string[]) => readFileSync(join(...parts), "utf8");

describe("llm-ab monitoring render", () => {
  it("writes the rules, the Alertmanager configuration and the dashboard, and says what it wrote", async () => {
    const out = join(dir, "duel");
    const run = await runCli("monitoring", "render", examplePaths.promptDuel, "--out", out);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const spec = await loadSpecFile(examplePaths.promptDuel);
    const name = "support-bot-policy-prompt";
    expect(readdirSync(out).sort()).toEqual([
      `${name}.alertmanager.yaml`,
      `${name}.dashboard.json`,
      `${name}.rules.yaml`,
    ]);
    expect(read(out, `${name}.rules.yaml`)).toBe(rulesYaml(spec));
    expect(read(out, `${name}.alertmanager.yaml`)).toBe(alertmanagerYaml(spec));
    expect(read(out, `${name}.dashboard.json`)).toBe(dashboardJson(spec));
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`Monitoring for "${name}" (production profile):`);
    expect(lines.slice(1).map((line) => line.replace(/:.*/, ""))).toEqual([
      `  wrote ${join(out, `${name}.rules.yaml`)}`,
      `  wrote ${join(out, `${name}.alertmanager.yaml`)}`,
      `  wrote ${join(out, `${name}.dashboard.json`)}`,
    ]);
    expect(run.stdout).toMatch(/Prometheus rules: \d+ recording rules, \d+ alerts/);
    expect(run.stdout).toContain(
      "pause/rollback → http://support-bot-policy-prompt-router-admin:8081/alertmanager",
    );
    expect(run.stdout).toContain(`Grafana dashboard uid llm-ab-${name}: `);
  });

  it("renders the local profile with the given webhook and token file, and the files pass promtool and amtool", async () => {
    const out = join(dir, "local");
    const token = join(dir, "admin-token");
    writeFileSync(token, "s3cret\n");
    const run = await runCli(
      "monitoring",
      "render",
      examplePaths.modelSwap,
      "--out",
      out,
      "--profile",
      "local",
      "--webhook-url",
      "http://127.0.0.1:18081/alertmanager",
      "--token-file",
      token,
    );
    expect(run.code).toBe(0);
    const spec = await loadSpecFile(examplePaths.modelSwap);
    const name = "support-bot-model-swap-70b";
    const options = {
      profile: "local" as const,
      webhookUrl: "http://127.0.0.1:18081/alertmanager",
      tokenFile: token,
    };
    expect(read(out, `${name}.alertmanager.yaml`)).toBe(alertmanagerYaml(spec, options));
    expect(read(out, `${name}.rules.yaml`)).toBe(rulesYaml(spec, { profile: "local" }));
    expect(read(out, `${name}.dashboard.json`)).toBe(dashboardJson(spec, { profile: "local" }));
    expect(read(out, `${name}.alertmanager.yaml`)).not.toContain("s3cret");
    const rules = checkRules({ "rules.yaml": read(out, `${name}.rules.yaml`) });
    expect(rules.ok, rules.output).toBe(true);
    const check = amtool(read(out, `${name}.alertmanager.yaml`), ["check-config", "{config}"]);
    expect(check.ok, check.output).toBe(true);
  });

  it("writes the same bytes when run twice", async () => {
    const first = join(dir, "first");
    const second = join(dir, "second");
    await runCli("monitoring", "render", examplePaths.modelSwap, "--out", first);
    await runCli("monitoring", "render", examplePaths.modelSwap, "--out", second);
    for (const file of readdirSync(first)) expect(read(second, file)).toBe(read(first, file));
  });

  it.each([
    [["--profile", "prod"], "argument 'prod' is invalid. Allowed choices are production, local."],
    [["--webhook-url", "router:8081"], '--webhook-url: must be http:// or https://, got "router:8081"'],
    [["--webhook-url", "not a url"], '--webhook-url: not a URL: "not a url"'],
  ])("refuses %j and says why", async (args, message) => {
    const out = join(dir, "refused");
    const run = await runCli("monitoring", "render", examplePaths.promptDuel, "--out", out, ...args);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
    expect(existsSync(out)).toBe(false);
  });

  it("requires --out", async () => {
    const run = await runCli("monitoring", "render", examplePaths.promptDuel);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("required option '--out <dir>' not specified");
  });

  it("lists every problem of an invalid spec and writes nothing", async () => {
    const path = join(dir, "broken.json");
    writeFileSync(path, JSON.stringify({ name: "Broken Name", hypothesis: "h" }));
    const out = join(dir, "broken-out");
    const run = await runCli("monitoring", "render", path, "--out", out);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("name:");
    expect(run.stderr).toContain(`llm-ab validate ${path}`);
    expect(existsSync(out)).toBe(false);
  });

  it("says which directory it could not write into, and why", async () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    const run = await runCli("monitoring", "render", examplePaths.promptDuel, "--out", join(file, "sub"));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `cannot write into ${join(file, "sub")} (ENOTDIR): check the path and its permissions`,
    );
  });
});
