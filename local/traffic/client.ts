/**
 * The simulated application's HTTP side: one chat turn through the router's OpenAI-compatible
 * proxy (streamed or not, read to the end), and one outcome report. Requests go through an undici
 * dispatcher the caller owns, with keep-alive, as a real application's HTTP client would.
 */
import { Agent, type Dispatcher, request } from "undici";

/** The header the router reads the conversation (the randomization unit) from. */
export const CONVERSATION_HEADER = "x-llm-ab-conversation";
/** The header the router names the serving variant in. */
export const VARIANT_HEADER = "x-llm-ab-variant";
/** The model name the application asks for; the router maps it to each variant's deployment. */
export const APP_MODEL = "support-bot";

/** A message of the conversation as the application keeps it (the router adds the system prompt). */
export interface ChatMessage {
  readonly role: "user" | "assistant";
  readonly content: string;
}

/** One chat turn to send. */
export interface TurnRequest {
  /** Router proxy base URL, without `/v1`. */
  readonly url: string;
  readonly conversation: string;
  readonly user: string;
  /** The history and the new user message, last. */
  readonly messages: readonly ChatMessage[];
  readonly maxTokens: number;
  readonly stream: boolean;
}

/** How a turn ended. `variant` is the router's `x-llm-ab-variant`, when the answer carried one. */
export type TurnResult =
  | { readonly ok: true; readonly variant: string | undefined; readonly answer: string }
  | {
      readonly ok: false;
      readonly variant: string | undefined;
      /** The turn was cut by the caller's signal, not by the router. */
      readonly aborted: boolean;
      readonly reason: string;
    };

/** What became of an outcome report. */
export type OutcomePost = "accepted" | "refused" | "failed" | "aborted";

/**
 * A keep-alive agent for the generator. `connections` bounds the sockets per router; the default
 * is above the generator's in-flight cap so the pool never queues a turn behind another.
 */
export function createTrafficAgent(connections = 2_500): Agent {
  return new Agent({ connections, keepAliveTimeout: 30_000, connect: { timeout: 5_000 } });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The text of the first choice of a chat completion (non-streamed) or chunk (streamed). */
function choiceText(payload: unknown, key: "message" | "delta"): string {
  const choices = (payload as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) return "";
  const content = (choices[0] as Record<string, { content?: unknown } | undefined> | undefined)?.[key]
    ?.content;
  return typeof content === "string" ? content : "";
}

function hasError(payload: unknown): boolean {
  return typeof payload === "object" && payload !== null && "error" in payload;
}

/**
 * Reads an OpenAI server-sent-event stream to its end and returns the generated text. Throws when
 * the stream ends before `data: [DONE]`, carries an error event or an event that is not JSON: the
 * application would show the user a broken answer.
 */
async function readStream(body: Dispatcher.ResponseData["body"]): Promise<string> {
  body.setEncoding("utf8");
  let pending = "";
  let answer = "";
  let done = false;
  const readLine = (line: string): void => {
    if (!line.startsWith("data:")) return;
    const data = line.slice(5).trim();
    if (data === "[DONE]") {
      done = true;
      return;
    }
    if (done || data.length === 0) return;
    const payload: unknown = JSON.parse(data);
    if (hasError(payload)) throw new Error(`error event in the stream: ${data.slice(0, 200)}`);
    answer += choiceText(payload, "delta");
  };
  for await (const chunk of body as AsyncIterable<string>) {
    pending += chunk;
    let end = pending.indexOf("\n");
    while (end >= 0) {
      readLine(pending.slice(0, end).replace(/\r$/, ""));
      pending = pending.slice(end + 1);
      end = pending.indexOf("\n");
    }
  }
  readLine(pending.replace(/\r$/, ""));
  if (!done) throw new Error("the stream ended before data: [DONE]");
  return answer;
}

/**
 * Sends one chat turn to `POST <url>/v1/chat/completions` and reads the whole answer. Never
 * throws: a status other than 200, a network error, a broken stream or the signal firing is a
 * failed {@link TurnResult}.
 */
export async function sendTurn(
  dispatcher: Dispatcher,
  turn: TurnRequest,
  signal: AbortSignal,
): Promise<TurnResult> {
  const body = {
    model: APP_MODEL,
    user: turn.user,
    messages: turn.messages,
    max_tokens: turn.maxTokens,
    stream: turn.stream,
    ...(turn.stream ? { stream_options: { include_usage: true } } : {}),
  };
  let variant: string | undefined;
  try {
    const response = await request(`${turn.url}/v1/chat/completions`, {
      method: "POST",
      dispatcher,
      signal,
      headers: { "content-type": "application/json", [CONVERSATION_HEADER]: turn.conversation },
      body: JSON.stringify(body),
    });
    variant = headerValue(response.headers[VARIANT_HEADER]);
    if (response.statusCode !== 200) {
      await response.body.dump();
      return { ok: false, variant, aborted: false, reason: `HTTP ${response.statusCode}` };
    }
    const answer = turn.stream
      ? await readStream(response.body)
      : choiceText(await response.body.json(), "message");
    return { ok: true, variant, answer };
  } catch (error) {
    return { ok: false, variant, aborted: signal.aborted, reason: (error as Error).message };
  }
}

/**
 * Posts one outcome, `{ unit, metric, value }`, to `POST <url>/v1/outcomes`. Never throws: a 2xx
 * is accepted, another status refused, a network error failed, the signal firing aborted.
 */
export async function postOutcome(
  dispatcher: Dispatcher,
  url: string,
  outcome: { readonly unit: string; readonly metric: string; readonly value: number },
  signal: AbortSignal,
): Promise<OutcomePost> {
  try {
    const response = await request(`${url}/v1/outcomes`, {
      method: "POST",
      dispatcher,
      signal,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(outcome),
    });
    await response.body.dump();
    return response.statusCode >= 200 && response.statusCode < 300 ? "accepted" : "refused";
  } catch {
    return signal.aborted ? "aborted" : "failed";
  }
}
