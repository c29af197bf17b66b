/**
 * `llm-ab monitoring render <spec> --out <dir>`: the experiment's Prometheus rules, Alertmanager
 * configuration and Grafana dashboard as files, for a Prometheus, Alertmanager and Grafana run
 * outside Kubernetes (the local stack, a VM). Inside Kubernetes the Pulumi program applies the
 * same content as objects (monitoring/objects.ts).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Command, Option } from "commander";
import { alertmanagerYaml, renderAlertmanager } from "../monitoring/alertmanager.ts";
import {
  defaultTokenFile,
  defaultWebhookUrl,
  type MonitoringProfile,
  monitoringProfiles,
} from "../monitoring/config.ts";
import { dashboardJson, dashboardUid, renderDashboard } from "../monitoring/dashboard.ts";
import { renderRules, rulesYaml } from "../monitoring/rules.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./main.ts";
import { loadSpecArg } from "./spec-arg.ts";

interface RenderOptions {
  out: string;
  profile: MonitoringProfile;
  webhookUrl?: string;
  tokenFile?: string;
}

/** One file the command writes: where, what, and a line saying what is in it. */
interface Rendered {
  readonly file: string;
  readonly text: string;
  readonly summary: string;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** The three files for `spec`, named after the experiment so several can share one directory. */
export function renderMonitoringFiles(spec: ExperimentSpec, options: Omit<RenderOptions, "out">): Rendered[] {
  const { profile } = options;
  const rules = renderRules(spec, { profile }).groups.flatMap((group) => group.rules);
  const recording = rules.filter((rule) => "record" in rule).length;
  const webhookUrl = options.webhookUrl ?? defaultWebhookUrl(spec, profile);
  const tokenFile = options.tokenFile ?? defaultTokenFile(spec, profile);
  const alertmanager = { profile, webhookUrl, tokenFile };
  const receivers = (renderAlertmanager(spec, alertmanager).receivers as unknown[]).length;
  const panels = (renderDashboard(spec, { profile }).panels as { type: string }[]).filter(
    (panel) => panel.type !== "row",
  ).length;
  return [
    {
      file: `${spec.name}.rules.yaml`,
      text: rulesYaml(spec, { profile }),
      summary: `Prometheus rules: ${count(recording, "recording rule")}, ${count(rules.length - recording, "alert")}`,
    },
    {
      file: `${spec.name}.alertmanager.yaml`,
      text: alertmanagerYaml(spec, alertmanager),
      summary: `Alertmanager: ${count(receivers, "receiver")}, pause/rollback → ${webhookUrl} (bearer token from ${tokenFile})`,
    },
    {
      file: `${spec.name}.dashboard.json`,
      text: dashboardJson(spec, { profile }),
      summary: `Grafana dashboard uid ${dashboardUid(spec.name)}: ${count(panels, "panel")}`,
    },
  ];
}

function webhookUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`--webhook-url: not a URL: "${value}" (e.g. http://127.0.0.1:8081/alertmanager)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError(`--webhook-url: must be http:// or https://, got "${value}"`);
  }
  return value;
}

export function registerMonitoring(program: Command, io: CliIo): void {
  const monitoring = program
    .command("monitoring")
    .description(
      "Generate the experiment's Prometheus rules, Alertmanager configuration and Grafana dashboard.",
    );
  monitoring
    .command("render")
    .description(
      "Write <experiment>.rules.yaml, <experiment>.alertmanager.yaml and <experiment>.dashboard.json.",
    )
    .argument("<spec>", "spec file: .yaml, .yml or .json")
    .requiredOption("--out <dir>", "directory to write into (created when missing)")
    .addOption(
      new Option(
        "--profile <profile>",
        "timings: production (spec.monitoring) or local (spec.monitoring.local)",
      )
        .choices(monitoringProfiles)
        .default("production"),
    )
    .option(
      "--webhook-url <url>",
      "the router's Alertmanager webhook (default: local http://127.0.0.1:8081/alertmanager, production the <experiment>-router-admin Service)",
    )
    .option(
      "--token-file <path>",
      "file Alertmanager reads the router's admin bearer token from (default: local ./router-admin-token beside the config, production the mounted <experiment>-router-admin-token Secret)",
    )
    .action(async (file: string, options: RenderOptions) => {
      const spec = await loadSpecArg(file);
      const rendered = renderMonitoringFiles(spec, {
        profile: options.profile,
        ...(options.webhookUrl === undefined ? {} : { webhookUrl: webhookUrl(options.webhookUrl) }),
        ...(options.tokenFile === undefined ? {} : { tokenFile: options.tokenFile }),
      });
      try {
        await mkdir(options.out, { recursive: true });
        for (const { file: name, text } of rendered) await writeFile(join(options.out, name), text);
      } catch (error) {
        const code =
          (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
        throw new CliError(`cannot write into ${options.out} (${code}): check the path and its permissions`);
      }
      io.out(`Monitoring for "${spec.name}" (${options.profile} profile):\n`);
      for (const { file: name, summary } of rendered)
        io.out(`  wrote ${join(options.out, name)}: ${summary}\n`);
    });
}
