import { describe, expect, it } from "vitest";
import { safeParseSpec } from "../../spec/load.ts";
import {
  DELETE,
  exampleInput,
  expectInvalid,
  type InvalidCase,
  type Patch,
  patched,
  problemsOf,
} from "./spec-fixtures.ts";

const DIGEST = "a".repeat(64);
const variant = (deployment: string, systemPrompt: string) => ({ deployment, systemPrompt });

// Each case breaks the valid prompt-duel example in one way.
// biome-ignore format: one case per line reads as a table
const invalidCases: InvalidCase[] = [
  // identity and randomization
  { name: "rejects a name that is not label-safe", patches: [[["name"], "Support_Bot"]], path: "name", says: ["lowercase letters, digits or dashes", 'got "Support_Bot"'] },
  { name: "rejects a name longer than 50 characters", patches: [[["name"], "a".repeat(51)]], path: "name", says: ["1–50"] },
  { name: "rejects a blank hypothesis", patches: [[["hypothesis"], "   "]], path: "hypothesis", says: ["must not be empty"] },
  { name: "requires a hypothesis", patches: [[["hypothesis"], DELETE]], path: "hypothesis", says: ["is required"] },
  { name: "rejects an unknown unit and suggests the closest", patches: [[["unit"], "users"]], path: "unit", says: ["cluster:<attribute>", 'got "users"', 'did you mean "user"?'] },
  { name: "rejects a cluster unit whose attribute is not lowercase", patches: [[["unit"], "cluster:Team"]], path: "unit", says: ["cluster:<attribute>"] },
  { name: "rejects an empty salt", patches: [[["salt"], ""]], path: "salt", says: ["must not be empty"] },
  { name: "rejects a hash version that does not exist", patches: [[["hashVersion"], 2]], path: "hashVersion", says: ["must be 1, got 2"] },
  { name: "rejects an owner that is not text", patches: [[["owner"], 5]], path: "owner", says: ["must be a string, got 5"] },
  { name: "rejects an unknown top-level key and suggests the closest", patches: [[["rolout"], {}]], path: "", says: ['unknown key "rolout"', 'did you mean "rollout"?', "known keys: name"] },
  // rollout
  { name: "rejects an unknown rollout mode listing the modes", patches: [[["rollout", "mode"], "blue-green"]], path: "rollout.mode", says: ['"shadow", "canary", "ab" or "bandit"', 'got "blue-green"'] },
  { name: "rejects a treatment percent above 100", patches: [[["rollout", "treatmentPercent"], 140]], path: "rollout.treatmentPercent", says: ["must be between 0 and 100, got 140"] },
  { name: "rejects live treatment traffic in shadow mode", patches: [[["rollout"], { mode: "shadow", treatmentPercent: 10 }]], path: "rollout.treatmentPercent", says: ["must be 0 in shadow mode, got 10"] },
  { name: "rejects mirroring outside shadow mode", patches: [[["rollout", "mirrorPercent"], 20]], path: "rollout.mirrorPercent", says: ["only shadow mode mirrors", "mode ab"] },
  // variants
  { name: "rejects a variant pointing at an unknown deployment, listing the known ones", patches: [[["variants", "treatment", "deployment"], "chat-9b"]], path: "variants.treatment.deployment", says: ['unknown deployment "chat-9b"', 'did you mean "chat-8b"?', "(known: chat-8b)"] },
  { name: "rejects two controls", patches: [[["variants", "treatment", "role"], "control"]], path: "variants", says: ["exactly one control", "found 2 (control, treatment)"] },
  { name: "rejects a spec without a control", patches: [[["variants"], { a: variant("chat-8b", "A"), b: variant("chat-8b", "B") }]], path: "variants", says: ["found none", "role: control"] },
  { name: "rejects a spec without a treatment", patches: [[["variants", "treatment"], DELETE]], path: "variants", says: ["at least one treatment"] },
  { name: "rejects an unknown role", patches: [[["variants", "treatment", "role"], "challenger"]], path: "variants.treatment.role", says: ['"control" or "treatment"'] },
  { name: "rejects a variant name with capitals", patches: [[["variants", "Treatment"], variant("chat-8b", "B")]], path: "variants.Treatment", says: ['"Treatment" is not a valid name', "lowercase letters"] },
  { name: "rejects a temperature above 2", patches: [[["variants", "control", "params", "temperature"], 3]], path: "variants.control.params.temperature", says: ["between 0 and 2, got 3"] },
  { name: "rejects top_p of 0", patches: [[["variants", "control", "params", "top_p"], 0]], path: "variants.control.params.top_p", says: ["in (0, 1], got 0"] },
  { name: "rejects an unknown sampling parameter naming the known ones", patches: [[["variants", "control", "params", "tempurature"], 0.5]], path: "variants.control.params", says: ['unknown key "tempurature"', 'did you mean "temperature"?', "top_p", "max_tokens", "stop"] },
  { name: "rejects max_tokens of 0", patches: [[["variants", "control", "params", "max_tokens"], 0]], path: "variants.control.params.max_tokens", says: ["at least 1, got 0"] },
  { name: "rejects a fractional max_tokens", patches: [[["variants", "control", "params", "max_tokens"], 1.5]], path: "variants.control.params.max_tokens", says: ["whole number, got 1.5"] },
  { name: "rejects an empty stop list", patches: [[["variants", "control", "params", "stop"], []]], path: "variants.control.params.stop", says: ["at least one entry"] },
  { name: "rejects an unknown system prompt mode", patches: [[["variants", "treatment", "systemPromptMode"], "append"]], path: "variants.treatment.systemPromptMode", says: ['"replace" or "prepend"', 'got "append"'] },
  // deployments
  { name: "rejects an image without a tag or digest", patches: [[["deployments", "chat-8b", "image"], "vllm/vllm-openai"]], path: "deployments.chat-8b.image", says: ["must be pinned to a tag or digest", "vllm/vllm-openai:v0.11.0"] },
  { name: "rejects the latest tag", patches: [[["deployments", "chat-8b", "image"], "vllm/vllm-openai:latest"]], path: "deployments.chat-8b.image", says: ['moving tag "latest"'] },
  { name: "rejects a malformed image reference", patches: [[["deployments", "chat-8b", "image"], "Vllm/OpenAI:1"]], path: "deployments.chat-8b.image", says: ["container image reference"] },
  { name: "rejects a digest of the wrong length", patches: [[["deployments", "chat-8b", "image"], `vllm/vllm-openai@sha256:${DIGEST.slice(1)}`]], path: "deployments.chat-8b.image", says: ["container image reference"] },
  { name: "rejects replicas.max below replicas.min", patches: [[["deployments", "chat-8b", "replicas"], { min: 3, max: 2 }]], path: "deployments.chat-8b.replicas.max", says: ["at least replicas.min (3), got 2"] },
  { name: "rejects a warm pool larger than replicas.max", patches: [[["deployments", "chat-8b", "replicas", "warmPool"], 9]], path: "deployments.chat-8b.replicas.warmPool", says: ["at most replicas.max (8), got 9"] },
  { name: "compares the warm pool with max defaulted to min", patches: [[["deployments", "chat-8b", "replicas"], { min: 3, warmPool: 4 }]], path: "deployments.chat-8b.replicas.warmPool", says: ["at most replicas.max (3), got 4"] },
  { name: "rejects negative replicas", patches: [[["deployments", "chat-8b", "replicas", "min"], -1]], path: "deployments.chat-8b.replicas.min", says: ["at least 0, got -1"] },
  { name: "rejects more GPUs than one node holds", patches: [[["deployments", "chat-8b", "gpus"], 16]], path: "deployments.chat-8b.gpus", says: ["between 1 and 8, got 16"] },
  { name: "rejects an endpoint that is not http(s)", patches: [[["deployments", "chat-8b", "endpoints"], ["ftp://10.0.0.1/x"]]], path: "deployments.chat-8b.endpoints[0]", says: ["http:// or https:// URL", 'got "ftp://10.0.0.1/x"'] },
  { name: "rejects an endpoint that is not a URL", patches: [[["deployments", "chat-8b", "endpoints"], ["localhost"]]], path: "deployments.chat-8b.endpoints[0]", says: ["http:// or https:// URL"] },
  { name: "rejects a repeated endpoint", patches: [[["deployments", "chat-8b", "endpoints"], ["http://a:8000", "http://a:8000"]]], path: "deployments.chat-8b.endpoints[1]", says: ["repeats endpoints[0]"] },
  { name: "rejects vLLM flags the stack sets from other fields", patches: [[["deployments", "chat-8b", "vllmArgs"], ["--enable-prefix-caching", "--model=x"]]], path: "deployments.chat-8b.vllmArgs[1]", says: ["--model is set by the stack", "deployments.chat-8b.model"] },
  { name: "rejects a deployment no variant uses", patches: [[["deployments", "spare"], { image: "vllm/vllm-openai:v0.11.0", model: "m" }]], path: "deployments.spare", says: ["not used by any variant"] },
  { name: "rejects a deployment name with capitals", patches: [[["deployments", "Chat"], { image: "vllm/vllm-openai:v0.11.0", model: "m" }]], path: "deployments.Chat", says: ['"Chat" is not a valid name'] },
  { name: "suggests the closest deployment key for a misspelt one", patches: [[["deployments", "chat-8b", "gpu"], 1]], path: "deployments.chat-8b", says: ['unknown key "gpu"', 'did you mean "gpus"?'] },
  { name: "requires a price for cost guardrails", patches: [[["deployments", "chat-8b", "price"], DELETE]], path: "deployments.chat-8b.price", says: ["metrics.guardrails[2] (cost_per_session_usd)", "inputPerMillionTokens"] },
  { name: "rejects a negative price", patches: [[["deployments", "chat-8b", "price", "inputPerMillionTokens"], -1]], path: "deployments.chat-8b.price.inputPerMillionTokens", says: ["at least 0, got -1"] },
  // analysis
  { name: "rejects alpha outside (0, 1)", patches: [[["analysis", "alpha"], 1.5]], path: "analysis.alpha", says: ["in (0, 1), got 1.5"] },
  { name: "rejects an unknown correction", patches: [[["analysis", "correction"], "fdr"]], path: "analysis.correction", says: ['"benjamini-hochberg"'] },
  { name: "rejects looks that are not increasing", patches: [[["analysis", "sequential", "looks"], [0.5, 0.25, 1]]], path: "analysis.sequential.looks[1]", says: ["greater than the look before it (0.5), got 0.25"] },
  { name: "rejects looks that do not end at 1", patches: [[["analysis", "sequential", "looks"], [0.5, 0.9]]], path: "analysis.sequential.looks[1]", says: ["last look must be 1", "got 0.9"] },
  { name: "rejects a look at 0", patches: [[["analysis", "sequential", "looks"], [0, 1]]], path: "analysis.sequential.looks[0]", says: ["in (0, 1], got 0"] },
  { name: "rejects an unknown spending function", patches: [[["analysis", "sequential", "spending"], "linear"]], path: "analysis.sequential.spending", says: ['"obrien-fleming" or "pocock"'] },
  { name: "rejects fractional daily units", patches: [[["analysis", "dailyUnits"], 10.5]], path: "analysis.dailyUnits", says: ["whole number"] },
  // monitoring and router
  { name: "rejects a window that is not a Prometheus duration", patches: [[["monitoring", "window"], "5 minutes"]], path: "monitoring.window", says: ["Prometheus duration", '"1m"'] },
  { name: "rejects a zero-length window", patches: [[["monitoring", "window"], "0m"]], path: "monitoring.window", says: ["longer than zero"] },
  { name: "rejects a window shorter than the evaluation interval", patches: [[["monitoring", "window"], "30s"]], path: "monitoring.window", says: ["at least evaluationInterval (1m)", '"30s"'] },
  { name: "checks the local stack's window against its own interval", patches: [[["monitoring", "local"], { window: "1s" }]], path: "monitoring.local.window", says: ["at least evaluationInterval (2s)"] },
  { name: "rejects a runbook that is not a URL", patches: [[["monitoring", "runbookUrl"], "runbooks/x"]], path: "monitoring.runbookUrl", says: ["http:// or https:// URL"] },
  { name: "requires a Redis URL with the redis store", patches: [[["router"], { store: "redis" }]], path: "router.redisUrl", says: ["is required when router.store is redis"] },
  { name: "rejects a Redis URL with the memory store", patches: [[["router"], { redisUrl: "redis://r:6379" }]], path: "router.redisUrl", says: ["only used with store: redis"] },
  { name: "rejects a Redis URL with another scheme", patches: [[["router"], { store: "redis", redisUrl: "http://r:6379" }]], path: "router.redisUrl", says: ["redis:// or rediss://"] },
  { name: "rejects a Redis URL without a host", patches: [[["router"], { store: "redis", redisUrl: "redis:cache" }]], path: "router.redisUrl", says: ["redis:// or rediss://"] },
  { name: "rejects a unit source that is neither header nor body", patches: [[["router", "unitSources"], [{ query: "u" }]]], path: "router.unitSources[0]", says: ['{ header: <header name> } or { body: "user" }'] },
  { name: "rejects an empty list of unit sources", patches: [[["router", "unitSources"], []]], path: "router.unitSources", says: ["at least one entry"] },
  { name: "rejects a judge agreement outside [-1, 1]", patches: [[["gate", "minJudgeAgreement"], 2]], path: "gate.minJudgeAgreement", says: ["between -1 and 1, got 2"] },
];

describe("spec validation", () => {
  it.each(invalidCases)("$name", expectInvalid);

  it("reports every problem of a spec at once, schema and cross-field alike", () => {
    // biome-ignore format: one patch per line
    const result = safeParseSpec(
      patched(exampleInput(), [
        [["rollout", "treatmentPercent"], 140],
        [["variants", "treatment", "deployment"], "chat-9b"],
        [["variants", "control", "params", "temperature"], "hot"],
        [["deployments", "chat-8b", "replicas"], { min: 3, max: 2 }],
        [["metrics", "guardrails", 0, "name"], "latency"],
        [["analysis", "sequential", "looks"], [0.5, 0.9]],
        [["router", "store"], "redis"],
      ]),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((problem) => problem.path).sort()).toEqual([
      "analysis.sequential.looks[1]",
      "deployments.chat-8b.replicas.max",
      "metrics.guardrails[0].name",
      "rollout.treatmentPercent",
      "router.redisUrl",
      "variants.control.params.temperature",
      "variants.treatment.deployment",
    ]);
  });

  it("describes a document that is not a mapping at all", () => {
    expect(safeParseSpec([1, 2])).toEqual({
      ok: false,
      problems: [{ path: "", message: "must be a mapping of keys to values, got a list of 2" }],
    });
  });

  it("names every missing required section of an empty document", () => {
    const result = safeParseSpec({});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const required = ["name", "hypothesis", "unit", "rollout", "variants", "deployments", "metrics"];
    expect(result.problems.map((problem) => problem.path)).toEqual(required);
    for (const problem of result.problems) expect(problem.message).toMatch(/^is required/);
  });
});

// biome-ignore format: one case per line reads as a table
const validCases: { name: string; patches: readonly Patch[] }[] = [
  { name: "accepts a cluster unit", patches: [[["unit"], "cluster:org.team_id"]] },
  { name: "accepts a session unit", patches: [[["unit"], "session"]] },
  { name: "accepts an image from a registry with a port, pinned by tag and digest", patches: [[["deployments", "chat-8b", "image"], `registry.local:5000/ml/vllm-openai:v0.11.0@sha256:${DIGEST}`]] },
  { name: "accepts an A/A test, whose arms are identical on purpose", patches: [[["variants", "treatment", "systemPrompt"], "Be helpful."]] },
  { name: "accepts several treatments (A/B/n)", patches: [[["variants", "treatment-b"], variant("chat-8b", "Be brief.")]] },
  { name: "accepts a control chosen by role instead of by name", patches: [[["variants"], { baseline: { ...variant("chat-8b", "A"), role: "control" }, candidate: variant("chat-8b", "B") }]] },
  { name: "accepts shadow mode without a percent", patches: [[["rollout"], { mode: "shadow" }]] },
  { name: "accepts a shadow mirror of part of the traffic", patches: [[["rollout"], { mode: "shadow", mirrorPercent: 25 }]] },
  { name: "accepts a stop sequence as text or as a list", patches: [[["variants", "control", "params", "stop"], "###"], [["variants", "treatment", "params"], { stop: ["a", "b"] }]] },
  { name: "accepts the redis store with a rediss URL", patches: [[["router"], { store: "redis", redisUrl: "rediss://cache.internal:6380/1" }]] },
  { name: "accepts a spec with no sequential design", patches: [[["analysis", "sequential"], DELETE]] },
  { name: "accepts an extra deployment that a treatment uses", patches: [[["deployments", "chat-70b"], { image: "vllm/vllm-openai:v0.11.0", model: "m", gpus: 2, price: { inputPerMillionTokens: 1, outputPerMillionTokens: 2 } }], [["variants", "treatment", "deployment"], "chat-70b"]] },
];

describe("valid variations of the example", () => {
  it.each(validCases)("$name", ({ patches }) => {
    expect(problemsOf(patches)).toEqual([]);
  });
});
