/**
 * Checks before a target of bench/router is measured: it answers, and what it answers is the
 * upstream's whole stream, so req/s is never counted on errors or truncated streams.
 */

/** A free TCP port on 127.0.0.1, for servers that need one in their config (nginx). */
export { freePort } from "../../local/supervisor/server-process.ts";

/** What one checked request returned. */
export interface Preflight {
  readonly variant: string | undefined;
  readonly summary: string;
}

/** Settings of `preflight`. */
export interface PreflightOptions {
  readonly url: string;
  readonly path: string;
  readonly body: string;
  readonly unitHeader: string;
  /** Tokens the upstream streams; the answer must carry them all. */
  readonly tokens: number;
  /** How long to keep retrying while the server starts. Default 20 s. */
  readonly timeoutMs?: number;
}

/**
 * Posts the bench request until the target answers (connection refused while it starts), then
 * checks status 200, an event stream, every token and `[DONE]`; throws naming what was wrong.
 */
export async function preflight(options: PreflightOptions): Promise<Preflight> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    let answer: Response;
    try {
      answer = await fetch(`${options.url}${options.path}`, {
        method: "POST",
        headers: { "content-type": "application/json", [options.unitHeader]: "preflight-unit" },
        body: options.body,
      });
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`${options.url} did not answer within the start-up time`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    const text = await answer.text();
    if (answer.status !== 200)
      throw new Error(`${options.url}: HTTP ${answer.status}: ${text.slice(0, 500)}`);
    const type = answer.headers.get("content-type") ?? "";
    if (!type.startsWith("text/event-stream"))
      throw new Error(`${options.url}: content-type ${type}, not SSE`);
    const events = text.split("\n\n").filter((event) => event.startsWith("data: "));
    const tokenEvents = events.filter(
      (event) => event.includes('"content":"') && !event.includes('"content":""'),
    );
    if (tokenEvents.length !== options.tokens || !text.trimEnd().endsWith("data: [DONE]")) {
      throw new Error(
        `${options.url}: expected ${options.tokens} token events and [DONE], got ${tokenEvents.length} tokens:\n${text.slice(0, 2000)}`,
      );
    }
    const variant = answer.headers.get("x-llm-ab-variant") ?? undefined;
    return {
      variant,
      summary: `ok (${tokenEvents.length} tokens, ${text.length} bytes${variant === undefined ? "" : `, variant ${variant}`})`,
    };
  }
}
