/**
 * `llm-ab router` argument handling, in-process. Starting and stopping a real router process with
 * SIGTERM is covered by test/router/integration/shutdown.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { adminToken } from "../../cli/router.ts";
import { runCli } from "../helpers/cli.ts";
import { exampleInput, examplePaths, patched } from "../spec/spec-fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "llm-ab-router-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("llm-ab router", () => {
  it("refuses an invalid spec, listing its problems and how to check it", async () => {
    const spec = file(
      "bad.json",
      JSON.stringify(patched(exampleInput(), [[["rollout", "treatmentPercent"], 140]])),
    );
    const run = await runCli("router", "--spec", spec, "--port", "0", "--admin-port", "0");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("rollout.treatmentPercent");
    expect(run.stderr).toContain(`llm-ab validate ${spec}`);
  });

  it.each([
    [["--spec"], "argument missing"],
    [["--port", "99999"], "expected a port number 0–65535"],
    [["--admin-port", "x"], "expected a port number 0–65535"],
  ])("rejects the arguments %j", async (args, says) => {
    const run = await runCli(
      "router",
      ...(args.includes("--spec") ? [] : ["--spec", examplePaths.promptDuel]),
      ...args,
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(says);
  });

  it("names an admin token file it cannot use", async () => {
    const empty = file("empty-token", "\n");
    const run = await runCli("router", "--spec", examplePaths.promptDuel, "--admin-token-file", empty);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`--admin-token-file ${empty}: the file is empty`);
    const missing = await runCli(
      "router",
      "--spec",
      examplePaths.promptDuel,
      "--admin-token-file",
      join(dir, "nope"),
    );
    expect(missing.stderr).toContain("cannot read it (ENOENT)");
  });
});

describe("the admin token", () => {
  it("comes from the file, trimmed, before the environment", async () => {
    const path = file("token", "  from-file\n");
    expect(await adminToken(path, { LLM_AB_ADMIN_TOKEN: "from-env" })).toBe("from-file");
  });

  it("comes from LLM_AB_ADMIN_TOKEN without a file, and is absent when that is empty", async () => {
    expect(await adminToken(undefined, { LLM_AB_ADMIN_TOKEN: "from-env" })).toBe("from-env");
    expect(await adminToken(undefined, { LLM_AB_ADMIN_TOKEN: " " })).toBeUndefined();
    expect(await adminToken(undefined, {})).toBeUndefined();
  });
});
