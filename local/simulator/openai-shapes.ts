/**
 * The OpenAI-compatible request and response shapes of vLLM's server, as the simulator speaks
 * them: request validation with vLLM-like 400 errors that name the field, and the JSON bodies and
 * SSE chunks of chat completions and completions.
 */
import { chatSegments, completionSegments, type PromptSegment } from "./text.ts";

/** A generation request the simulator accepted. */
export interface GenerationRequest {
  readonly chat: boolean;
  /** `model` as sent; undefined means the served model (vLLM allows leaving it out). */
  readonly model: string | undefined;
  readonly stream: boolean;
  /** Streamed: send a final usage chunk (`stream_options.include_usage`). */
  readonly includeUsage: boolean;
  /** `max_tokens` (or `max_completion_tokens`); undefined: no limit but the model's own. */
  readonly maxTokens: number | undefined;
  readonly segments: readonly PromptSegment[];
  /** Chat messages as sent, to remember the conversation with its answer in the prefix cache. */
  readonly messages: readonly unknown[] | undefined;
}

/** A request vLLM would refuse: HTTP status and an OpenAI-style error body. */
export interface RequestError {
  readonly status: number;
  readonly body: { error: { message: string; type: string; param: string | null; code: number } };
}

/** An OpenAI-style error body, as vLLM v0.11 sends it. */
export function errorBody(
  status: number,
  type: string,
  message: string,
  param: string | null = null,
): RequestError {
  return { status, body: { error: { message, type, param, code: status } } };
}

const badRequest = (param: string, message: string) =>
  errorBody(400, "BadRequestError", `${param}: ${message}`, param);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalTokens(body: Record<string, unknown>, field: string): number | RequestError | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) return badRequest(field, "must be an integer");
  if (value < 1) return badRequest(field, `must be at least 1, got ${value}.`);
  return value;
}

/** Validates a body sent to `/v1/chat/completions` (`chat`) or `/v1/completions`. */
export function parseGenerationRequest(body: unknown, chat: boolean): GenerationRequest | RequestError {
  if (!isRecord(body)) return errorBody(400, "BadRequestError", "The request body must be a JSON object.");
  if (body.model !== undefined && body.model !== null && typeof body.model !== "string")
    return badRequest("model", "must be a string");
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== "boolean")
    return badRequest("stream", "must be a boolean");
  const stream = body.stream === true;
  const options = body.stream_options;
  if (options !== undefined && options !== null) {
    if (!isRecord(options)) return badRequest("stream_options", "must be an object");
    if (!stream)
      return badRequest("stream_options", "Stream options can only be defined when `stream=True`.");
  }
  const maxTokens = optionalTokens(body, "max_tokens");
  if (typeof maxTokens === "object") return maxTokens;
  const maxCompletionTokens = optionalTokens(body, "max_completion_tokens");
  if (typeof maxCompletionTokens === "object") return maxCompletionTokens;
  let segments: PromptSegment[];
  let messages: unknown[] | undefined;
  if (chat) {
    if (body.messages === undefined) return badRequest("messages", "Field required");
    if (!Array.isArray(body.messages) || body.messages.length === 0)
      return badRequest("messages", "must be a non-empty list of messages");
    for (const [index, message] of body.messages.entries()) {
      if (!isRecord(message) || typeof message.role !== "string")
        return badRequest(`messages.${index}.role`, "Field required");
    }
    messages = body.messages;
    segments = chatSegments(body.messages);
  } else {
    const prompt = body.prompt;
    if (prompt === undefined) return badRequest("prompt", "Field required");
    const ok =
      typeof prompt === "string" ||
      (Array.isArray(prompt) && prompt.length > 0 && prompt.every((part) => typeof part === "string"));
    if (!ok) return badRequest("prompt", "must be a string or a non-empty list of strings");
    segments = completionSegments(prompt as string | string[]);
  }
  return {
    chat,
    model: typeof body.model === "string" ? body.model : undefined,
    stream,
    includeUsage: isRecord(options) && options.include_usage === true,
    maxTokens: maxTokens ?? maxCompletionTokens,
    segments,
    messages,
  };
}

/** Token counts of an answer, as OpenAI's `usage` (with vLLM's prompt-tokens details). */
export function usageOf(promptTokens: number, completionTokens: number, cachedTokens: number) {
  return {
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens: completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens },
  };
}

/** What every body and chunk of one answer shares. */
export interface AnswerHead {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  readonly chat: boolean;
}

/** A streamed chunk: the role announcement, one token, or the finish (empty delta with a reason). */
export function streamChunk(
  head: AnswerHead,
  part: { role: true } | { token: string } | { finish: string },
): Record<string, unknown> {
  let choice: Record<string, unknown>;
  if (head.chat) {
    const delta =
      "role" in part ? { role: "assistant", content: "" } : "token" in part ? { content: part.token } : {};
    choice = { index: 0, delta, logprobs: null, finish_reason: "finish" in part ? part.finish : null };
  } else {
    const text = "token" in part ? part.token : "";
    choice = {
      index: 0,
      text,
      logprobs: null,
      finish_reason: "finish" in part ? part.finish : null,
      stop_reason: null,
    };
  }
  return {
    id: head.id,
    object: head.chat ? "chat.completion.chunk" : "text_completion",
    created: head.created,
    model: head.model,
    choices: [choice],
  };
}

/** The last streamed chunk when usage was asked for: no choices, only usage. */
export function usageChunk(head: AnswerHead, usage: ReturnType<typeof usageOf>): Record<string, unknown> {
  return {
    id: head.id,
    object: head.chat ? "chat.completion.chunk" : "text_completion",
    created: head.created,
    model: head.model,
    choices: [],
    usage,
  };
}

/** The whole answer of a non-streamed request. */
export function completeBody(
  head: AnswerHead,
  text: string,
  finishReason: string,
  usage: ReturnType<typeof usageOf>,
): Record<string, unknown> {
  const choice = head.chat
    ? { index: 0, message: { role: "assistant", content: text, tool_calls: [] }, logprobs: null }
    : { index: 0, text, logprobs: null, prompt_logprobs: null };
  return {
    id: head.id,
    object: head.chat ? "chat.completion" : "text_completion",
    created: head.created,
    model: head.model,
    choices: [{ ...choice, finish_reason: finishReason, stop_reason: null }],
    usage,
  };
}

/** `GET /v1/models`, shaped like vLLM's list of its one served model. */
export function modelsBody(model: string, created: number): Record<string, unknown> {
  return {
    object: "list",
    data: [
      {
        id: model,
        object: "model",
        created,
        owned_by: "vllm",
        root: model,
        parent: null,
        max_model_len: MAX_MODEL_LEN,
        permission: [
          {
            id: `modelperm-${model.replace(/[^a-zA-Z0-9]/g, "")}`,
            object: "model_permission",
            created,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: "*",
            group: null,
            is_blocking: false,
          },
        ],
      },
    ],
  };
}

/** The context length the simulated model reports. */
export const MAX_MODEL_LEN = 8192;
