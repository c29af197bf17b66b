import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { redactSecrets } from "../../cli/render.ts";
import { runCli } from "../helpers/cli.ts";
import { validateK8sObject } from "../helpers/k8s-validate.ts";

describe("llm-ab render", () => {
  it("writes the dev stack's manifests, byte-identical on a second render", async () => {
    const dir = await mkdtemp(join(tmpdir(), "llm-ab-render-"));
    const first = await runCli("render", "dev", "--out", join(dir, "a.yaml"));
    const second = await runCli("render", "dev", "--out", join(dir, "b.yaml"));
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(first.stderr).toMatch(/^wrote \d+ Kubernetes objects of stack dev to /);
    const a = await readFile(join(dir, "a.yaml"), "utf8");
    expect(await readFile(join(dir, "b.yaml"), "utf8")).toBe(a);
    const documents = parseAllDocuments(a).map((doc) => doc.toJS() as Record<string, unknown>);
    for (const object of documents) validateK8sObject(object);
    expect(documents.map((o) => o.kind)).toContain("StatefulSet");
  });

  it("prints to stdout with sorted keys when no --out is given", async () => {
    const run = await runCli("render", "aws");
    expect(run.code).toBe(0);
    const [first] = parseAllDocuments(run.stdout).map((doc) => doc.toJS() as Record<string, unknown>);
    expect(Object.keys(first ?? {})).toEqual(Object.keys(first ?? {}).sort());
  });

  it("names the stack file when the stack does not exist", async () => {
    const run = await runCli("render", "nope");
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('no stack "nope"');
    expect(run.stderr).toContain("Pulumi.nope.yaml");
  });

  it("redacts Pulumi secrets, keeping a secret map's keys", async () => {
    const pulumi = await import("@pulumi/pulumi");
    const secret = (value: unknown) => ({
      [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
      value,
    });
    expect(redactSecrets({ stringData: secret({ token: "t0ps3cret" }), list: [secret("x")] })).toEqual({
      stringData: { token: "<secret>" },
      list: ["<secret>"],
    });
  });
});
