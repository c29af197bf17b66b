import { describe, expect, it } from "vitest";
import {
  defaultTokenFile,
  defaultWebhookUrl,
  durationMs,
  formatDuration,
  holdFor,
  runbookUrl,
  timing,
} from "../../monitoring/config.ts";
import { parseSpec } from "../../spec/load.ts";
import { exampleInput, patched } from "../spec/spec-fixtures.ts";

const spec = parseSpec(exampleInput("promptDuel"));

describe("monitoring config", () => {
  it.each([
    [120_000, "2m"],
    [4000, "4s"],
    [90_000, "90s"],
    [3_600_000, "1h"],
    [86_400_000, "1d"],
    [1500, "1500ms"],
  ])("writes %d ms as %s, the largest unit that divides it", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(durationMs(text)).toBe(ms);
  });

  it("reads spec.monitoring in production and spec.monitoring.local locally, the SRM window twelve windows long", () => {
    expect(timing(spec, "production")).toEqual({ interval: "1m", window: "5m", srmWindow: "1h" });
    expect(timing(spec, "local")).toEqual({ interval: "2s", window: "10s", srmWindow: "2m" });
    const custom = parseSpec(
      patched(exampleInput("promptDuel"), [[["monitoring"], { evaluationInterval: "30s", window: "2m" }]]),
    );
    expect(timing(custom, "production")).toEqual({ interval: "30s", window: "2m", srmWindow: "24m" });
  });

  it.each([
    [1, "1m", "1m"],
    [2, "1m", "2m"],
    [3, "30s", "90s"],
    [2, "2s", "4s"],
  ])("holds a breach of %d windows at a %s interval for %s", (windows, interval, hold) => {
    expect(holdFor(windows, { interval, window: "5m", srmWindow: "1h" })).toBe(hold);
  });

  it("links each alert to its own section of the spec's runbook", () => {
    expect(runbookUrl(spec, "LlmAbGuardrailErrorRate")).toBe(
      "https://runbooks.example.com/llm-ab/support-bot-policy-prompt#llmabguardrailerrorrate",
    );
  });

  it("points at the router's admin port on this machine locally and at its admin Service in production", () => {
    expect(defaultWebhookUrl(spec, "local")).toBe("http://127.0.0.1:8081/alertmanager");
    expect(defaultWebhookUrl(spec, "production")).toBe(
      "http://support-bot-policy-prompt-router-admin:8081/alertmanager",
    );
    expect(defaultTokenFile(spec, "local")).toBe("router-admin-token");
    expect(defaultTokenFile(spec, "production")).toBe(
      "/etc/alertmanager/secrets/support-bot-policy-prompt-router-admin-token/token",
    );
  });
});
