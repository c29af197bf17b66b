/**
 * The generation runner: every golden case through control and treatment, each shaped exactly as
 * the router shapes live traffic for that variant (model, system prompt, sampling parameters), so
 * the gate judges the answers users would get.
 *
 * Decoding is as deterministic as the endpoint allows: temperature 0 unless the variant sets one,
 * and a fixed seed. Calls share a concurrency limit, retry with backoff and go through the results
 * cache, so a rerun pays only for what changed. A call that still fails is reported with its case
 * and arm, never dropped: a gate computed on the cases that happened to succeed would be biased.
 */

import { PROMPT_SEPARATOR, routePaths, shapeRequest } from "../router/shaping.ts";
import type { ExperimentSpec, Variant } from "../spec/schema.ts";
import { type CallContext, cachedPostJson, type ResultsCache } from "./cache.ts";
import { endpointUrl, type Limiter, limit, type PostOptions } from "./client.ts";
import type { Arm, Generation, GoldenCase } from "./types.ts";

/** Progress after each finished call. */
export interface GenerateProgress {
  /** Calls finished, failed ones included. */
  readonly done: number;
  readonly total: number;
  /** Answers found in the cache. */
  readonly cached: number;
  readonly failed: number;
}

/** Options of {@link generate}. */
export interface GenerateOptions {
  /** A parsed spec: its variants carry the model already resolved to the deployment's served name. */
  readonly spec: ExperimentSpec;
  readonly cases: readonly GoldenCase[];
  /** Variant names of the two arms. Default: the spec's control, and its only treatment. */
  readonly variants?: { readonly control?: string; readonly treatment?: string };
  /** Sent as `seed` (a variant's own `params.seed` wins, as it does online). */
  readonly seed: number;
  /** Sent as `max_tokens` unless the variant sets it. Absent: not sent (the server's default). */
  readonly maxTokens?: number;
  /** Base URL per deployment. Default: the deployment's `endpoints[0]`. */
  readonly endpoints?: Readonly<Record<string, string>>;
  /** Shared with the judges to hold one budget of connections. Default `limit(concurrency)`. */
  readonly limiter?: Limiter;
  /** Concurrent calls when no limiter is given. Default 4. */
  readonly concurrency?: number;
  readonly cache?: ResultsCache;
  /** Timeout, retries and headers of each call. */
  readonly post?: PostOptions;
  readonly onProgress?: (progress: GenerateProgress) => void;
}

/** A case × arm whose call failed after its retries (or whose answer had no text). */
export interface GenerationFailure {
  readonly caseId: string;
  readonly arm: Arm;
  readonly variant: string;
  readonly deployment: string;
  readonly endpoint: string;
  readonly message: string;
}

/** What {@link generate} produced: answers in case order (control before treatment), and failures. */
export interface GenerateResult {
  readonly generations: Generation[];
  readonly failures: GenerationFailure[];
}

const ARMS: readonly Arm[] = ["control", "treatment"];

/** The variant name of each arm: chosen ones must exist; otherwise the control and the only treatment. */
export function armVariants(
  spec: ExperimentSpec,
  chosen: GenerateOptions["variants"] = {},
): Record<Arm, string> {
  const names = Object.keys(spec.variants);
  const pick = (arm: Arm): string => {
    const named = chosen[arm];
    if (named !== undefined) {
      if (!(named in spec.variants)) {
        throw new Error(`the ${arm} variant "${named}" is not in the spec (variants: ${names.join(", ")})`);
      }
      return named;
    }
    const withRole = names.filter((name) => spec.variants[name]?.role === arm);
    if (withRole.length !== 1) {
      throw new Error(
        `the spec has ${withRole.length} ${arm} variants (${withRole.join(", ") || "none"}): name the ${arm} to run`,
      );
    }
    return withRole[0] as string;
  };
  return { control: pick("control"), treatment: pick("treatment") };
}

/** The base URL of a deployment: `endpoints[deployment]`, else the spec's first endpoint. */
export function endpointOf(
  spec: ExperimentSpec,
  deployment: string,
  endpoints: Readonly<Record<string, string>> = {},
): string {
  const endpoint = endpoints[deployment] ?? spec.deployments[deployment]?.endpoints?.[0];
  if (endpoint === undefined) {
    throw new Error(
      `deployment "${deployment}" has no endpoint: give one for it (e.g. --endpoint ${deployment}=http://127.0.0.1:8000) or set deployments.${deployment}.endpoints in the spec`,
    );
  }
  try {
    new URL(endpoint);
  } catch {
    throw new Error(`the endpoint of deployment "${deployment}" is not a URL: "${endpoint}"`);
  }
  return endpoint;
}

/**
 * The chat request a variant sends for a case: the case's messages shaped by the variant as the
 * router would, then the case's `context` as a system message right after the (variant's) system
 * prompt, so the instructions come first and the facts before the conversation.
 */
export function requestBody(
  testCase: GoldenCase,
  variant: Variant,
  decoding: { readonly seed: number; readonly maxTokens?: number },
): Record<string, unknown> {
  const base: Record<string, unknown> = {
    model: variant.model,
    messages: testCase.messages,
    temperature: 0,
    seed: decoding.seed,
    ...(decoding.maxTokens === undefined ? {} : { max_tokens: decoding.maxTokens }),
  };
  const { body } = shapeRequest("chat", base, variant);
  if (testCase.context !== undefined) {
    // The context joins the first system message, as shaping joins prompts: many chat templates
    // (Mistral, Gemma) accept one system message only, and production sends one.
    const messages = [...(body.messages as { role?: unknown; content?: unknown }[])];
    const system = messages.findIndex((message) => message.role === "system" || message.role === "developer");
    const first = messages[system];
    if (first !== undefined && typeof first.content === "string") {
      messages[system] = { ...first, content: `${first.content}${PROMPT_SEPARATOR}${testCase.context}` };
    } else {
      messages.splice(system + 1, 0, { role: "system", content: testCase.context });
    }
    body.messages = messages;
  }
  return body;
}

interface ChatAnswer {
  readonly text: string;
  readonly finishReason: string | null;
  readonly usage?: { readonly promptTokens: number; readonly completionTokens: number };
}

/** The first choice's text of a chat completion; throws saying what is missing. */
function readAnswer(json: unknown): ChatAnswer {
  const response = json as {
    choices?: { message?: { content?: unknown }; finish_reason?: unknown }[];
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
  };
  const choice = Array.isArray(response?.choices) ? response.choices[0] : undefined;
  const text = choice?.message?.content;
  if (typeof text !== "string") throw new Error("the answer has no text in choices[0].message.content");
  const finishReason = typeof choice?.finish_reason === "string" ? choice.finish_reason : null;
  const prompt = response.usage?.prompt_tokens;
  const completion = response.usage?.completion_tokens;
  return typeof prompt === "number" && typeof completion === "number"
    ? { text, finishReason, usage: { promptTokens: prompt, completionTokens: completion } }
    : { text, finishReason };
}

/** The base URL inside the URL of a call to the chat route. */
function baseOf(url: string): string {
  return url.endsWith(routePaths.chat) ? url.slice(0, -routePaths.chat.length) : url;
}

/**
 * Runs every case through both arms. Resolves once every call has finished: the answers, and the
 * calls that failed after their retries. Throws before any call when the arms or an endpoint
 * cannot be resolved, or when two cases share an id.
 */
export async function generate(options: GenerateOptions): Promise<GenerateResult> {
  const { spec, cases } = options;
  const seen = new Set<string>();
  for (const testCase of cases) {
    if (seen.has(testCase.id)) throw new Error(`case id "${testCase.id}" appears twice in the dataset`);
    seen.add(testCase.id);
  }
  const names = armVariants(spec, options.variants);
  const arms = ARMS.map((arm) => {
    const variant = spec.variants[names[arm]] as Variant;
    return {
      arm,
      name: names[arm],
      variant,
      endpoint: endpointOf(spec, variant.deployment, options.endpoints),
    };
  });
  const context: CallContext = {
    limiter: options.limiter ?? limit(options.concurrency ?? 4),
    ...(options.cache ? { cache: options.cache } : {}),
    ...(options.post ? { post: options.post } : {}),
  };
  const total = cases.length * arms.length;
  let done = 0;
  let cached = 0;
  const failures: GenerationFailure[] = [];
  const report = () => options.onProgress?.({ done, total, cached, failed: failures.length });

  const run = async (testCase: GoldenCase, each: (typeof arms)[number]): Promise<Generation | undefined> => {
    const body = requestBody(testCase, each.variant, { seed: options.seed, maxTokens: options.maxTokens });
    try {
      const result = await cachedPostJson(endpointUrl(each.endpoint, routePaths.chat), body, context);
      if (result.cached) cached++;
      const answer = readAnswer(result.json);
      const { model: _model, messages: _messages, ...params } = body;
      return {
        caseId: testCase.id,
        variant: each.name,
        arm: each.arm,
        deployment: each.variant.deployment,
        endpoint: baseOf(result.url),
        model: String(body.model),
        params,
        seed: typeof body.seed === "number" ? body.seed : options.seed,
        requestHash: result.key,
        text: answer.text,
        finishReason: answer.finishReason,
        ...(answer.usage ? { usage: answer.usage } : {}),
        latencyMs: result.latencyMs,
        attempts: result.attempts,
        at: result.at,
      };
    } catch (error) {
      failures.push({
        caseId: testCase.id,
        arm: each.arm,
        variant: each.name,
        deployment: each.variant.deployment,
        endpoint: each.endpoint,
        message: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    } finally {
      done++;
      report();
    }
  };

  const results = await Promise.all(cases.flatMap((testCase) => arms.map((each) => run(testCase, each))));
  const position = new Map(cases.map((testCase, at) => [testCase.id, at]));
  failures.sort(
    (a, b) =>
      (position.get(a.caseId) ?? 0) - (position.get(b.caseId) ?? 0) ||
      ARMS.indexOf(a.arm) - ARMS.indexOf(b.arm),
  );
  return { generations: results.filter((each) => each !== undefined), failures };
}
