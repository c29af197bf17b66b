/**
 * Per-variant shaping of an OpenAI-compatible request body: the variant's model name, system
 * prompt and sampling parameters replace the application's, so two prompts (or two temperatures)
 * can be compared on one deployment. Streaming requests also ask the engine for `usage` in the last
 * event, which TPOT and cost need.
 *
 * The application's body is never mutated: a shadow mirror shapes the same body for another variant.
 */
import type { Variant } from "../spec/schema.ts";

/** The two OpenAI-compatible routes the router proxies. */
export type OpenAiRoute = "chat" | "completions";

/** Request paths of the routes, relative to a replica's base URL. */
export const routePaths: Readonly<Record<OpenAiRoute, string>> = {
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
};

/** The parts of a variant that shape requests. */
export type VariantShape = Pick<Variant, "model" | "systemPrompt" | "systemPromptMode" | "params">;

/**
 * What happened to the system prompt: `replaced` / `prepended` the application's, `inserted` one
 * where there was none, `none` (the variant sets no system prompt) or `skipped` (a completions
 * prompt given as token ids, which cannot be prefixed with text without the model's tokenizer).
 */
export type SystemPromptEffect = "none" | "replaced" | "prepended" | "inserted" | "skipped";

/** A shaped request. */
export interface ShapedRequest {
  /** The body to send upstream: a new object, the application's left as it was. */
  readonly body: Record<string, unknown>;
  /** True when the request asks for a streamed (SSE) answer. */
  readonly stream: boolean;
  readonly systemPrompt: SystemPromptEffect;
}

/** Between the variant's system prompt and the application's when prepending. */
export const PROMPT_SEPARATOR = "\n\n";

type Message = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Newer OpenAI models call the system message `developer`; either is the application's instructions.
function isSystemMessage(message: unknown): message is Message {
  return isRecord(message) && (message.role === "system" || message.role === "developer");
}

/** `prefix` before a message content that may be a string, a list of content parts, or absent. */
function prependToContent(prefix: string, content: unknown): unknown {
  if (typeof content === "string") return content === "" ? prefix : `${prefix}${PROMPT_SEPARATOR}${content}`;
  if (Array.isArray(content)) return [{ type: "text", text: prefix }, ...content];
  return prefix;
}

function shapeMessages(
  messages: unknown,
  systemPrompt: string,
  mode: VariantShape["systemPromptMode"],
): { messages: unknown; effect: SystemPromptEffect } {
  const list: unknown[] = Array.isArray(messages) ? messages : [];
  const index = list.findIndex(isSystemMessage);
  if (index < 0) {
    return { messages: [{ role: "system", content: systemPrompt }, ...list], effect: "inserted" };
  }
  // Only the first system message is the application's instructions; later ones (tool results,
  // injected context) stay where they are.
  const original = list[index] as Message;
  const content = mode === "replace" ? systemPrompt : prependToContent(systemPrompt, original.content);
  const shaped = [...list];
  shaped[index] = { ...original, content };
  return { messages: shaped, effect: mode === "replace" ? "replaced" : "prepended" };
}

function isTokenPrompt(prompt: unknown): boolean {
  return Array.isArray(prompt) && prompt.length > 0 && typeof prompt[0] !== "string";
}

/**
 * A completions prompt has no system part to replace, so in both modes the system prompt goes in
 * front of the text prompt (or of each prompt of a batch).
 */
function shapePrompt(prompt: unknown, systemPrompt: string): { prompt: unknown; effect: SystemPromptEffect } {
  if (isTokenPrompt(prompt)) return { prompt, effect: "skipped" };
  if (Array.isArray(prompt)) {
    return {
      prompt: prompt.map((each) =>
        typeof each === "string" ? `${systemPrompt}${PROMPT_SEPARATOR}${each}` : each,
      ),
      effect: "prepended",
    };
  }
  if (typeof prompt === "string") {
    return { prompt: `${systemPrompt}${PROMPT_SEPARATOR}${prompt}`, effect: "prepended" };
  }
  return { prompt: systemPrompt, effect: "inserted" };
}

/**
 * The body the variant sends upstream for the application's `body`:
 * - `model` becomes the variant's model (the spec resolves it to the deployment's served name);
 * - with a `systemPrompt`, chat: `replace` swaps the content of the first system (or developer)
 *   message, `prepend` puts the variant's text before it (one message, since many chat templates
 *   accept only one system message), and either inserts a system message first when there is none;
 *   completions: the text goes before the prompt in both modes;
 * - every sampling parameter the variant sets replaces the application's; others pass through;
 * - `stream: true` requests also get `stream_options.include_usage: true` (other stream options kept).
 */
export function shapeRequest(
  route: OpenAiRoute,
  body: Readonly<Record<string, unknown>>,
  variant: VariantShape,
): ShapedRequest {
  const shaped: Record<string, unknown> = { ...body, model: variant.model };
  let systemPrompt: SystemPromptEffect = "none";
  if (variant.systemPrompt !== undefined) {
    if (route === "chat") {
      const result = shapeMessages(body.messages, variant.systemPrompt, variant.systemPromptMode);
      shaped.messages = result.messages;
      systemPrompt = result.effect;
    } else {
      const result = shapePrompt(body.prompt, variant.systemPrompt);
      shaped.prompt = result.prompt;
      systemPrompt = result.effect;
    }
  }
  for (const [name, value] of Object.entries(variant.params)) {
    if (value !== undefined) shaped[name] = value;
  }
  const stream = body.stream === true;
  if (stream) {
    const options = isRecord(body.stream_options) ? body.stream_options : {};
    shaped.stream_options = { ...options, include_usage: true };
  }
  return { body: shaped, stream, systemPrompt };
}
