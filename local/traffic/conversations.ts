/**
 * What the simulated application's conversations look like, drawn before any of them runs. Each
 * conversation has its own RNG seeded by (run seed, conversation number), so conversation n is the
 * same conversation in every run of a scenario and seed, whatever the timing, the machine or the
 * answers: the router sees the same units, users, prompts and outcome draws each time.
 */
import normal from "@stdlib/random-base-normal";
import uniformFactory from "@stdlib/random-base-uniform";
import type { TrafficModel } from "../scenario-schema.ts";

/** The noise behind one outcome metric of one conversation; `outcomes.ts` turns it into a value. */
export interface OutcomeNoise {
  /** Uniform on [0, 1): a binary outcome is 1 when it falls under the probability. */
  readonly uniform: number;
  /** Standard normal: a continuous outcome is `mean + sd * normal`. */
  readonly normal: number;
  /** Uniform on [0, 1): a continuous outcome is reported when it falls under `reportShare`. */
  readonly report: number;
}

/** One turn as the user will send it. */
export interface TurnPlan {
  /** Seconds the user waits after the previous answer (0 for the first turn). */
  readonly thinkSeconds: number;
  readonly promptTokens: number;
  /** The user message: filler words, about 4 characters per token. */
  readonly content: string;
  readonly maxTokens: number;
  readonly stream: boolean;
  /** Uniform on [0, 1) that picks the router replica of this turn by share (the load balancer). */
  readonly route: number;
}

/** Everything about conversation n that does not depend on what the router answers. */
export interface ConversationPlan {
  readonly index: number;
  /** `conv-<seed>-<n>`: the randomization unit the router reads from `x-llm-ab-conversation`. */
  readonly id: string;
  /** `user-<k>`, k uniform over the scenario's users. */
  readonly user: string;
  readonly turns: readonly TurnPlan[];
  /** Uniform on [0, 1) that picks the router replica the outcomes are posted to. */
  readonly outcomeRoute: number;
  /** Per outcome metric, by name. */
  readonly outcomeNoise: Readonly<Record<string, OutcomeNoise>>;
}

/** Approximate characters per token of English text, as tokenizers of Llama-class models give. */
export const CHARS_PER_TOKEN = 4;

// Streams of one run: conversation shapes and outcome noise are separate, so changing the traffic
// model (more turns, longer prompts) leaves every conversation's outcome draws where they were.
const SHAPE_STREAM = 0;
const OUTCOME_STREAM = 1;
const ARRIVAL_TAG = 0x61727276;

/** The MT19937 seed words of a run seed (any non-negative integer) followed by `rest`. */
function seedWords(seed: number, ...rest: number[]): Uint32Array {
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  return new Uint32Array([seed % 2 ** 32, Math.floor(seed / 2 ** 32), ...rest]);
}

/** A uniform [0, 1) source from MT19937 seeded with `words`. */
function uniformSource(words: Uint32Array): () => number {
  return uniformFactory.factory(0, 1, { seed: words });
}

/** A whole number uniform over the inclusive range, its bounds rounded to whole numbers. */
function wholeIn(uniform: () => number, range: { readonly min: number; readonly max: number }): number {
  const low = Math.round(range.min);
  const high = Math.max(low, Math.round(range.max));
  return low + Math.floor(uniform() * (high - low + 1));
}

function realIn(uniform: () => number, range: { readonly min: number; readonly max: number }): number {
  return range.min + uniform() * (range.max - range.min);
}

// Plain words of a support chat. Drawn per conversation, so two conversations share no prefix
// beyond the system prompt and prefix caching only helps a conversation's own later turns.
const WORDS = [
  "order parcel refund invoice delivery account password address payment card return label",
  "size colour discount code tracking number shop item broken missing late wrong charged",
  "twice please help when where why how can could would my the a it was is not yet still",
  "again today yesterday week email phone change cancel exchange",
]
  .join(" ")
  .split(" ");

/** Filler text of exactly `tokens * CHARS_PER_TOKEN` characters: words drawn from `uniform`. */
export function fillerText(tokens: number, uniform: () => number): string {
  const length = tokens * CHARS_PER_TOKEN;
  let text = "";
  while (text.length < length) {
    const word = WORDS[Math.floor(uniform() * WORDS.length)]!;
    text = text.length === 0 ? word : `${text} ${word}`;
  }
  text = text.slice(0, length);
  // A message that would end on a space gets a full stop instead, so no message ends blank.
  return text.endsWith(" ") ? `${text.slice(0, -1)}.` : text;
}

/** The conversation id of conversation `index` of a run seeded with `seed`. */
export function conversationId(seed: number, index: number): string {
  return `conv-${seed}-${index}`;
}

/**
 * Draws conversation `index` of a run: its user, turns (think time, prompt, max_tokens, streaming,
 * replica) and the outcome noise of each metric in `metrics`. Pure: the same arguments give the
 * same plan.
 */
export function planConversation(
  seed: number,
  index: number,
  traffic: TrafficModel,
  metrics: readonly string[],
): ConversationPlan {
  if (!Number.isSafeInteger(index) || index < 0)
    throw new RangeError(`index must be a non-negative integer, got ${index}`);
  const uniform = uniformSource(seedWords(seed, index, SHAPE_STREAM));
  const user = `user-${Math.floor(uniform() * traffic.users)}`;
  const turnCount = wholeIn(uniform, traffic.turns);
  const turns: TurnPlan[] = [];
  for (let turn = 0; turn < turnCount; turn++) {
    const thinkSeconds = turn === 0 ? 0 : realIn(uniform, traffic.thinkSeconds);
    const promptTokens = wholeIn(uniform, traffic.promptTokens);
    const maxTokens = wholeIn(uniform, traffic.maxTokens);
    const stream = uniform() < traffic.streamShare;
    const route = uniform();
    turns.push({
      thinkSeconds,
      promptTokens,
      content: fillerText(promptTokens, uniform),
      maxTokens,
      stream,
      route,
    });
  }
  const outcomeRoute = uniform();

  const noiseUniform = uniformSource(seedWords(seed, index, OUTCOME_STREAM));
  const noiseNormal = normal.factory(0, 1, { prng: noiseUniform });
  const outcomeNoise: Record<string, OutcomeNoise> = {};
  // Sorted, so the noise of a metric does not depend on the order the spec lists metrics in.
  for (const metric of [...metrics].sort()) {
    outcomeNoise[metric] = { uniform: noiseUniform(), normal: noiseNormal(), report: noiseUniform() };
  }
  return { index, id: conversationId(seed, index), user, turns, outcomeRoute, outcomeNoise };
}

/**
 * Seconds between successive conversation starts of a Poisson process at `perSecond`, seeded by
 * the run seed: an endless sequence, the same for every run of the seed.
 */
export function* arrivalGaps(seed: number, perSecond: number): Generator<number, never> {
  if (!(perSecond > 0)) throw new RangeError(`conversationsPerSecond must be positive, got ${perSecond}`);
  const uniform = uniformSource(seedWords(seed, ARRIVAL_TAG));
  for (;;) yield -Math.log1p(-uniform()) / perSecond;
}

/** The index of the target a uniform draw `u` in [0, 1) picks when targets take `shares` of it. */
export function pickByShare(shares: readonly number[], u: number): number {
  const total = shares.reduce((sum, share) => sum + share, 0);
  let cumulative = 0;
  for (let i = 0; i < shares.length; i++) {
    cumulative += shares[i]!;
    if (u * total < cumulative) return i;
  }
  // Rounding can leave u * total a hair above the last cumulative sum: the last positive share takes it.
  for (let i = shares.length - 1; i >= 0; i--) if (shares[i]! > 0) return i;
  throw new RangeError("no target has a positive share");
}
