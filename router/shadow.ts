/**
 * Shadow mode: the user gets control's answer, and the same request is also sent to the treatment
 * so its latency, tokens and text can be compared offline. The mirrored answer goes into a
 * {@link CaptureSink}, never to the client, and the mirror is started only after the client's
 * call has been dispatched, so it cannot hold back the client's bytes.
 *
 * To record what control said next to what the treatment said, the client's response is wrapped
 * in a {@link TeeSink} that keeps a copy of the bytes it forwards (shadow requests only; the normal
 * path writes straight to the response).
 */
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { sseContentText } from "./sse.ts";
import type { ResponseSink } from "./upstream-call.ts";

/** Most bytes of an answer kept for its text: longer answers are cut (the log is for reading). */
export const MAX_CAPTURED_BYTES = 1 << 20;

/** Collects up to {@link MAX_CAPTURED_BYTES} of copies of what passes through. */
class Capture {
  private readonly parts: Buffer[] = [];
  private size = 0;

  add(chunk: Buffer | string): void {
    if (this.size >= MAX_CAPTURED_BYTES) return;
    // A copy: the transport may reuse the buffer once the write is done.
    const copy = Buffer.from(chunk);
    this.parts.push(copy);
    this.size += copy.length;
  }

  /** The generated text of the captured answer: SSE content events, or a JSON body's choice 0. */
  text(): string {
    const body = Buffer.concat(this.parts);
    const head = body.subarray(0, 64).toString().trimStart();
    if (head.startsWith("{")) return jsonAnswerText(body);
    return sseContentText(body);
  }
}

/** The text of a non-streamed OpenAI answer (chat `message.content` or completion `text` of choice 0). */
export function jsonAnswerText(body: Buffer | string): string {
  try {
    const choice = (
      JSON.parse(body.toString()) as { choices?: { message?: { content?: unknown }; text?: unknown }[] }
    ).choices?.[0];
    const text = choice?.message?.content ?? choice?.text;
    return typeof text === "string" ? text : "";
  } catch {
    return "";
  }
}

/** A response that goes nowhere but is kept (up to a limit) for its text. */
export class CaptureSink implements ResponseSink {
  headersSent = false;
  destroyed = false;
  writableFinished = false;
  status = 0;
  private readonly capture = new Capture();
  private readonly closeListeners = new Set<() => void>();

  writeHead(statusCode: number, _headers: OutgoingHttpHeaders): this {
    this.headersSent = true;
    this.status = statusCode;
    return this;
  }

  write(chunk: Buffer): boolean {
    this.capture.add(chunk);
    return true;
  }

  end(chunk?: string): this {
    if (chunk !== undefined) this.capture.add(chunk);
    this.writableFinished = true;
    return this;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    for (const listener of this.closeListeners) listener();
    return this;
  }

  on(event: "close" | "drain", listener: () => void): this {
    if (event === "close") this.closeListeners.add(listener);
    return this;
  }

  off(event: "close" | "drain", listener: () => void): this {
    if (event === "close") this.closeListeners.delete(listener);
    return this;
  }

  /** The generated text received so far. */
  text(): string {
    return this.capture.text();
  }
}

/** The client's response, with a copy of what is written to it kept for its text. */
export class TeeSink implements ResponseSink {
  private readonly capture = new Capture();

  constructor(private readonly response: ServerResponse) {}

  get headersSent(): boolean {
    return this.response.headersSent;
  }

  get destroyed(): boolean {
    return this.response.destroyed;
  }

  get writableFinished(): boolean {
    return this.response.writableFinished;
  }

  writeHead(statusCode: number, headers: OutgoingHttpHeaders): this {
    this.response.writeHead(statusCode, headers);
    return this;
  }

  write(chunk: Buffer): boolean {
    this.capture.add(chunk);
    return this.response.write(chunk);
  }

  end(chunk?: string): this {
    if (chunk !== undefined) {
      this.capture.add(chunk);
      this.response.end(chunk);
    } else {
      this.response.end();
    }
    return this;
  }

  destroy(error?: Error): this {
    this.response.destroy(error);
    return this;
  }

  on(event: "close" | "drain", listener: () => void): this {
    this.response.on(event, listener);
    return this;
  }

  off(event: "close" | "drain", listener: () => void): this {
    this.response.off(event, listener);
    return this;
  }

  /** The generated text the client was sent. */
  text(): string {
    return this.capture.text();
  }
}
