import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  prometheusConfig,
  REPLICAS_FILE,
  RULES_FILE,
  replicaTargets,
  scrapeInterval,
} from "../../local/prometheus-config.ts";
import { durationMs } from "../../monitoring/config.ts";
import { rulesYaml } from "../../monitoring/rules.ts";
import { loadSpecFile } from "../../spec/load.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";

const SPEC_PATH = fileURLToPath(new URL("../../examples/support-bot-fine-tune.yaml", import.meta.url));
const PROMTOOL = process.env.PROMTOOL ?? "promtool";

const replicas = [
  { address: "127.0.0.1:41001", deployment: "chat-8b", replica: "chat-8b-0" },
  { address: "127.0.0.1:41002", deployment: "chat-8b", replica: "chat-8b-1" },
  { address: "127.0.0.1:41003", deployment: "chat-8b-support", replica: "chat-8b-support-0" },
];

let spec: ExperimentSpec;
beforeAll(async () => {
  spec = await loadSpecFile(SPEC_PATH);
});

/** A spec whose local profile evaluates every `interval`. */
const withLocalInterval = (interval: string) => ({
  monitoring: { ...spec.monitoring, local: { ...spec.monitoring.local, evaluationInterval: interval } },
});

/**
 * `promtool check config` (rule lints on and fatal) on the files written beside each other, as the
 * stack writes them for Prometheus (test/helpers/promtool.ts only runs `check rules`/`test rules`).
 */
function checkConfig(files: Readonly<Record<string, string>>): { ok: boolean; output: string } {
  const probe = spawnSync(PROMTOOL, ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `cannot run ${PROMTOOL}: these tests need promtool; install the Debian package with \`apt-get install prometheus\` or set PROMTOOL to its path`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "llm-ab-promtool-config-"));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const run = spawnSync(
      PROMTOOL,
      ["check", "config", "--lint=all", "--lint-fatal", join(dir, "prometheus.yml")],
      {
        cwd: dir,
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    if (run.error !== undefined) throw run.error;
    return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("prometheusConfig", () => {
  it("passes promtool check config with the experiment's local rules and the replica targets", () => {
    const run = checkConfig({
      "prometheus.yml": prometheusConfig(spec, ["127.0.0.1:40001", "127.0.0.1:40002"], "127.0.0.1:40100"),
      [RULES_FILE]: rulesYaml(spec, { profile: "local" }),
      [REPLICAS_FILE]: replicaTargets(replicas),
    });
    expect(run.ok, run.output).toBe(true);
    expect(run.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("passes promtool check config before any replica has started", () => {
    const run = checkConfig({
      "prometheus.yml": prometheusConfig(spec, ["127.0.0.1:40001"], "127.0.0.1:40100"),
      [RULES_FILE]: rulesYaml(spec, { profile: "local" }),
      [REPLICAS_FILE]: replicaTargets([]),
    });
    expect(run.ok, run.output).toBe(true);
  });

  it("fails promtool check config when the rule file is missing, so the check above can fail", () => {
    const run = checkConfig({
      "prometheus.yml": prometheusConfig(spec, ["127.0.0.1:40001"], "127.0.0.1:40100"),
      [REPLICAS_FILE]: replicaTargets(replicas),
    });
    expect(run.ok).toBe(false);
    expect(run.output).toContain(RULES_FILE);
  });

  it("scrapes the routers and the replica file, evaluates at the local interval and alerts the local Alertmanager", () => {
    const config = parse(prometheusConfig(spec, ["127.0.0.1:40001"], "127.0.0.1:40100"));
    expect(config).toEqual({
      global: { scrape_interval: "500ms", scrape_timeout: "500ms", evaluation_interval: "2s" },
      rule_files: [RULES_FILE],
      alerting: { alertmanagers: [{ static_configs: [{ targets: ["127.0.0.1:40100"] }] }] },
      scrape_configs: [
        { job_name: "llm-ab-router", static_configs: [{ targets: ["127.0.0.1:40001"] }] },
        { job_name: "vllm", file_sd_configs: [{ files: [REPLICAS_FILE], refresh_interval: "1s" }] },
      ],
    });
  });
});

describe("scrapeInterval", () => {
  it.each([
    ["2s", "500ms"],
    ["4s", "1s"],
    ["10s", "2500ms"],
    ["1m", "15s"],
    // Never below a quarter second: a faster scrape only costs CPU.
    ["500ms", "250ms"],
  ])("scrapes a local evaluation interval of %s every %s", (interval, expected) => {
    expect(scrapeInterval(withLocalInterval(interval))).toBe(expected);
  });

  it("is a quarter of the example spec's local evaluation interval", () => {
    expect(durationMs(scrapeInterval(spec)) * 4).toBe(durationMs(spec.monitoring.local.evaluationInterval));
  });
});

describe("replicaTargets", () => {
  it("lists each replica as a file_sd target group labelled with its deployment and replica", () => {
    const text = replicaTargets(replicas);
    expect(text.endsWith("\n")).toBe(true);
    expect(JSON.parse(text)).toEqual([
      { targets: ["127.0.0.1:41001"], labels: { deployment: "chat-8b", replica: "chat-8b-0" } },
      { targets: ["127.0.0.1:41002"], labels: { deployment: "chat-8b", replica: "chat-8b-1" } },
      {
        targets: ["127.0.0.1:41003"],
        labels: { deployment: "chat-8b-support", replica: "chat-8b-support-0" },
      },
    ]);
  });

  it("writes an empty list when no replica runs", () => {
    expect(replicaTargets([])).toBe("[]\n");
  });
});
