import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { SCENARIO_DIR, scenarioNames, scenarioPath } from "../../cli/demo.ts";
import { CliError } from "../../cli/errors.ts";
import { runCli } from "../helpers/cli.ts";

// None of these runs starts a stack: each fails while reading its arguments or its scenario file.
// `--out` points into a temp directory all the same, so nothing lands in the working directory.
const dir = mkdtempSync(join(tmpdir(), "llm-ab-demo-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHIPPED_DIR = fileURLToPath(new URL("../../examples/scenarios/", import.meta.url));
const SPEC_PATH = fileURLToPath(new URL("../../examples/support-bot-fine-tune.yaml", import.meta.url));
const shipped = readdirSync(SHIPPED_DIR)
  .filter((file) => file.endsWith(".yaml"))
  .map((file) => file.replace(/\.yaml$/, ""))
  .sort();

const demo = (...args: string[]) => runCli("demo", "--no-progress", "--out", join(dir, "out"), ...args);

describe("llm-ab demo --help", () => {
  it("lists every shipped scenario and every option", async () => {
    const run = await runCli("demo", "--help");
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const help = run.stdout.replace(/\s+/g, " ");
    expect(shipped.length).toBeGreaterThan(0);
    expect(help).toContain(`what happens during the run: ${shipped.join(", ")} (default: "winner")`);
    for (const option of [
      "--scenario <name|file>",
      "--duration <time>",
      "--rate <n>",
      "--out <dir>",
      "--json",
      "--no-progress",
    ]) {
      expect(help).toContain(option);
    }
    expect(help).toContain("prometheus, prometheus-alertmanager and redis-server");
  });
});

describe("llm-ab demo --scenario", () => {
  it("knows the shipped scenarios by name", () => {
    expect(scenarioNames()).toEqual(shipped);
    for (const name of shipped) expect(scenarioPath(name)).toBe(join(SCENARIO_DIR, `${name}.yaml`));
  });

  it("takes anything with a slash or a YAML extension as a path", () => {
    for (const path of ["./mine", "mine.yaml", "mine.yml", "/tmp/x"]) expect(scenarioPath(path)).toBe(path);
  });

  it("refuses an unknown scenario, suggesting the near miss and listing them all", async () => {
    const run = await demo("--scenario", "winer");
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      `--scenario winer: no such scenario (did you mean winner?); the scenarios are ${shipped.join(", ")}, or give a path to a scenario file\n`,
    );
  });

  it("suggests nothing when no scenario is near", async () => {
    const run = await demo("--scenario", "nothing-like-it");
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain("did you mean");
    expect(run.stderr).toContain(`the scenarios are ${shipped.join(", ")}`);
  });

  it("throws a CliError for an unknown name", () => {
    expect(() => scenarioPath("latency-regresion")).toThrow(CliError);
    expect(() => scenarioPath("latency-regresion")).toThrow("did you mean latency-regression?");
  });

  it("reports a scenario file with a problem by its path, each problem with its field", async () => {
    const winner = parse(readFileSync(join(SHIPPED_DIR, "winner.yaml"), "utf8")) as Record<string, unknown>;
    const path = join(dir, "broken.yaml");
    writeFileSync(
      path,
      stringify({
        ...winner,
        spec: SPEC_PATH,
        deployments: { "chat-8b": { changes: [{ at: "soon", ttftFactor: 2 }] } },
      }),
    );
    const run = await demo("--scenario", path);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(`${path}: 1 problem`);
    expect(lines[1]).toMatch(/^ {2}deployments\.chat-8b\.changes\[0\]\.at: must be a share of the run/);
  });

  it("reports a problem against the spec by the scenario file's path", async () => {
    const winner = parse(readFileSync(join(SHIPPED_DIR, "winner.yaml"), "utf8")) as Record<string, unknown>;
    const path = join(dir, "unknown-deployment.yaml");
    writeFileSync(path, stringify({ ...winner, spec: SPEC_PATH, deployments: { "chat-9b": {} } }));
    const run = await demo("--scenario", path);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `${path}: 1 problem\n  deployments.chat-9b: the spec has no deployment "chat-9b" (it has: chat-8b, chat-8b-support)\n`,
    );
  });

  it("refuses a change that would fall after the end of the run, before starting anything", async () => {
    const winner = parse(readFileSync(join(SHIPPED_DIR, "winner.yaml"), "utf8")) as Record<string, unknown>;
    const path = join(dir, "late-change.yaml");
    const deployments = { "chat-8b-support": { changes: [{ at: "90s", ttftFactor: 3 }] } };
    writeFileSync(path, stringify({ ...winner, spec: SPEC_PATH, deployments }));
    const run = await demo("--scenario", path, "--duration", "30s");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "deployments.chat-8b-support.changes: the change at 90s falls at or after the end of a 30 s run",
    );
  });

  it("reports a scenario file that does not exist by its path", async () => {
    const path = join(dir, "missing.yaml");
    const run = await demo("--scenario", path);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`${path}: 1 problem\n  file not found\n`);
  });
});

describe("llm-ab demo --duration and --rate", () => {
  it.each([
    ["--duration", "soon", 'expected a duration from 5s to 1h such as 90s or 2m, got "soon"'],
    ["--duration", "2s", 'expected a duration from 5s to 1h such as 90s or 2m, got "2s"'],
    ["--duration", "2h", 'expected a duration from 5s to 1h such as 90s or 2m, got "2h"'],
    ["--duration", "-30", 'expected a duration from 5s to 1h such as 90s or 2m, got "-30"'],
    ["--rate", "0", 'expected conversations per second in (0, 200], got "0"'],
    ["--rate", "500", 'expected conversations per second in (0, 200], got "500"'],
    ["--rate", "fast", 'expected conversations per second in (0, 200], got "fast"'],
  ])("refuses %s %s, naming the option and its rule", async (option, value, rule) => {
    // The scenario file does not exist: had the value been accepted, that would be the error instead.
    const run = await demo(option, value, "--scenario", join(dir, "never-read.yaml"));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`option '${option} <`);
    expect(run.stderr).toContain(`argument '${value}' is invalid. ${rule}`);
    expect(run.stderr).not.toContain("never-read.yaml");
  });

  it.each([
    ["--duration", "90"],
    ["--duration", "90s"],
    ["--duration", "2m"],
    ["--rate", "0.5"],
  ])("accepts %s %s and goes on to read the scenario", async (option, value) => {
    const path = join(dir, "never-there.yaml");
    const run = await demo(option, value, "--scenario", path);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`${path}: 1 problem\n  file not found\n`);
  });
});
