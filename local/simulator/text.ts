/**
 * The simulator's stand-in for a tokenizer and a model: prompts are counted in approximate tokens,
 * prompt prefixes are hashed for the prefix cache, and answers are deterministic words.
 *
 * No real tokenizer is loaded (the demo runs without model files), so a prompt token is ~4
 * characters, the usual rule of thumb for English text with Llama/GPT tokenizers. Counts only need
 * to be stable and roughly proportional to text length: they drive prefill time, usage and metrics.
 */
import { createHash } from "node:crypto";

/** Characters per token of the approximation (see the module comment). */
const CHARS_PER_TOKEN = 4;

/** Approximate tokens of a text: ~chars/4, at least 1 for any message (its role and template). */
export function approxTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));
}

/** The text of a chat message's `content`: a string, or the text parts of a content list. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => {
      const text = (part as { text?: unknown } | null)?.text;
      return typeof text === "string" ? text : "";
    })
    .join("");
}

/** One prompt segment: what the prefix cache can reuse up to its end. */
export interface PromptSegment {
  /** Hash of the whole prompt up to and including this segment. */
  readonly prefixHash: string;
  /** Approximate tokens of this segment alone. */
  readonly tokens: number;
}

/**
 * The prefix-cache segments of a chat prompt: one per message, each hashed together with every
 * message before it (a chain), so equal hashes mean equal message lists up to there.
 */
export function chatSegments(messages: readonly unknown[]): PromptSegment[] {
  let previous = "";
  return messages.map((message) => {
    const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
    const text = contentText(content);
    previous = createHash("sha1")
      .update(previous)
      .update(JSON.stringify([role, text]))
      .digest("hex");
    return { prefixHash: previous, tokens: approxTokens(`${String(role)}: ${text}`) };
  });
}

/** The segments of a completions prompt (a string or a list of strings), one per string. */
export function completionSegments(prompt: string | readonly string[]): PromptSegment[] {
  const parts = typeof prompt === "string" ? [prompt] : prompt;
  return chatSegments(parts.map((text) => ({ role: "prompt", content: text })));
}

/** The vocabulary of answers: a support assistant's words, so a demo transcript reads plausibly. */
const WORDS = (
  "the order ships today and you can track it from your account page refunds take three to " +
  "five business days please check email for a confirmation we are sorry about delay let me " +
  "know if anything else is needed our team will help with return label"
).split(" ");

/** Token `index` of an answer seeded by `seed`: a word with its leading space (the first has none). */
export function answerToken(seed: number, index: number): string {
  // A cheap integer hash of (seed, index): stable across runs, no RNG state to share.
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x27d4eb2f);
  h ^= h >>> 15;
  const word = WORDS[(h >>> 0) % WORDS.length] as string;
  return index === 0 ? word.charAt(0).toUpperCase() + word.slice(1) : ` ${word}`;
}
