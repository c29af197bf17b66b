/**
 * `llm-ab render <stack>`: the Kubernetes manifests a stack would apply, as YAML, so a reviewer can
 * read them without a cluster or the Pulumi CLI. The stack's program runs under Pulumi mocks with
 * the config of `stacks/Pulumi.<stack>.yaml`; every Kubernetes object it registers is written with
 * sorted keys, in a fixed order, so two renders of the same stack are byte-identical.
 *
 * Pulumi and the program are imported when the command runs, not when `llm-ab` starts: every other
 * command (the router in its container above all) would otherwise load the Pulumi SDKs for nothing.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { parse as parseYaml, stringify } from "yaml";
import { CliError } from "./errors.ts";
import type { CliIo } from "./main.ts";

/** What a secret value is rendered as: the manifest shows that there is one, never what it is. */
export const REDACTED = "<secret>";

type KubernetesObject = Record<string, unknown>;

/**
 * The stack's config as the Pulumi runtime holds it: `project:key` → string (objects as JSON),
 * plus the keys of secure values, which get {@link REDACTED} since only the CLI can decrypt them.
 */
export async function readStackConfig(
  projectDir: string,
  stack: string,
): Promise<{ config: Record<string, string>; secretKeys: string[] }> {
  const file = join(projectDir, "stacks", `Pulumi.${stack}.yaml`);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new CliError(`llm-ab render: no stack "${stack}" (cannot read ${file}: ${code})`);
  }
  const document = (parseYaml(text) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(document.config ?? {})) {
    if (value !== null && typeof value === "object" && "secure" in value) {
      config[key] = REDACTED;
      secretKeys.push(key);
    } else {
      config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { config, secretKeys };
}

/** Pulumi's marker of a secret value in resource inputs: `{ [specialSigKey]: specialSecretSig, value }`. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** `value` with every Pulumi secret replaced by {@link REDACTED}. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record[SECRET_SIG_KEY] === SECRET_SIG) {
    const inner = record.value;
    // A secret map (a Secret's stringData) keeps its keys, so the reader sees which exist.
    if (inner !== null && typeof inner === "object" && !Array.isArray(inner)) {
      return Object.fromEntries(Object.keys(inner).map((key) => [key, REDACTED]));
    }
    return REDACTED;
  }
  return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, redactSecrets(item)]));
}

function sortKey(object: KubernetesObject): string {
  const metadata = (object.metadata ?? {}) as { name?: string; namespace?: string };
  return [object.apiVersion, object.kind, metadata.namespace ?? "", metadata.name ?? ""].join("\u0000");
}

/** A resource the program registered: its type token, name and inputs. */
export interface RegisteredResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: KubernetesObject;
}

/** Runs the stack's program under mocks with its config; returns every resource it registered. */
export async function runStackUnderMocks(stack: string, projectDir: string): Promise<RegisteredResource[]> {
  const { config, secretKeys } = await readStackConfig(projectDir, stack);
  const registered: RegisteredResource[] = [];
  const pulumi = await import("@pulumi/pulumi");
  const { runProgram } = await import("../stacks/program.ts");
  pulumi.runtime.setAllConfig(config, secretKeys);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs as KubernetesObject });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "llm-ab",
    stack,
    false,
  );
  try {
    await runProgram(projectDir);
    // Children registered inside apply callbacks reach the mocks asynchronously.
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  } catch (error) {
    if (pulumi.InputPropertyError.isInstance(error)) {
      throw new CliError(`llm-ab render ${stack}: ${error.propertyPath}: ${error.reason}`);
    }
    if (pulumi.InputPropertiesError.isInstance(error)) {
      const lines = error.errors.map((e) => `  ${e.propertyPath}: ${e.reason}`);
      throw new CliError([`llm-ab render ${stack}: invalid stack config`, ...lines].join("\n"));
    }
    throw error;
  }
  return registered;
}

/**
 * The Kubernetes objects the stack's program registers, secrets redacted, sorted by apiVersion,
 * kind, namespace and name.
 */
export async function renderStackObjects(
  stack: string,
  projectDir = process.cwd(),
): Promise<KubernetesObject[]> {
  const registered = await runStackUnderMocks(stack, projectDir);
  return registered
    .filter((r) => r.type.startsWith("kubernetes:"))
    .map((r) => redactSecrets(r.inputs) as KubernetesObject)
    .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}

/** The objects as one multi-document YAML stream, keys sorted at every level. */
export function manifestsYaml(objects: readonly KubernetesObject[]): string {
  return objects.map((object) => stringify(object, { sortMapEntries: true, lineWidth: 0 })).join("---\n");
}

export function registerRender(program: Command, io: CliIo): void {
  program
    .command("render")
    .description(
      "Write the Kubernetes manifests a stack would apply (its program run under Pulumi mocks) as YAML",
    )
    .argument("<stack>", "stack name: reads stacks/Pulumi.<stack>.yaml")
    .option("--out <file>", "write the YAML here instead of stdout")
    .option("--project <dir>", "project directory (holding Pulumi.yaml and stacks/)", ".")
    .action(async (stack: string, flags: { out?: string; project: string }) => {
      const objects = await renderStackObjects(stack, resolve(flags.project));
      const text = manifestsYaml(objects);
      if (flags.out === undefined) {
        io.out(text);
        return;
      }
      await writeFile(flags.out, text);
      io.err(`wrote ${objects.length} Kubernetes objects of stack ${stack} to ${flags.out}\n`);
    });
}
