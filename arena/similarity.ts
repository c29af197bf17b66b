/**
 * Level 2: how close each answer is to the case's reference answer, as the cosine of their
 * embeddings from an OpenAI-compatible `/v1/embeddings` endpoint. One call per case embeds the
 * reference and that case's answers together, so both arms are compared with the same reference
 * vector, and the call is cached like every other.
 */
import { type CallContext, cachedPostJson, type ResultsCache } from "./cache.ts";
import { endpointUrl, type Limiter, limit, type PostOptions } from "./client.ts";
import type { Arm, Generation, GoldenCase, SimilarityResult } from "./types.ts";

/** Options of {@link similarity}. */
export interface SimilarityOptions {
  /** Base URL of the embeddings endpoint. */
  readonly endpoint: string;
  /** Embedding model name sent. */
  readonly model: string;
  readonly cases: readonly GoldenCase[];
  readonly generations: readonly Generation[];
  /** Shared with the other calls of the run. Default `limit(concurrency)`. */
  readonly limiter?: Limiter;
  /** Concurrent calls when no limiter is given. Default 4. */
  readonly concurrency?: number;
  readonly cache?: ResultsCache;
  readonly post?: PostOptions;
}

/** Cosines per case and arm, in case order, and the ids of the cases skipped for want of a reference. */
export interface SimilarityRun {
  readonly results: SimilarityResult[];
  readonly skipped: string[];
}

/** Cosine of two vectors of equal length; throws on a length mismatch or a zero vector. */
export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`vectors of different lengths (${a.length} and ${b.length})`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  if (normA === 0 || normB === 0) throw new Error("a zero vector has no direction");
  // Rounding can push |cos| of parallel vectors a hair past 1.
  return Math.max(-1, Math.min(1, dot / Math.sqrt(normA * normB)));
}

/** The embeddings of an OpenAI-shaped response, in input order; throws saying what is wrong. */
export function readEmbeddings(json: unknown, expected: number): number[][] {
  const data = (json as { data?: unknown })?.data;
  if (!Array.isArray(data)) throw new Error("the response has no data array");
  if (data.length !== expected)
    throw new Error(`the response has ${data.length} embeddings for ${expected} inputs`);
  const vectors: number[][] = new Array(expected);
  data.forEach((item: { index?: unknown; embedding?: unknown }, position) => {
    // The spec lets servers order data by `index`; fall back to position when it is absent.
    const index = typeof item?.index === "number" ? item.index : position;
    const embedding = item?.embedding;
    if (!Array.isArray(embedding) || !embedding.every((x) => typeof x === "number" && Number.isFinite(x))) {
      throw new Error(`data[${position}].embedding is not a list of finite numbers`);
    }
    if (index < 0 || index >= expected || vectors[index] !== undefined) {
      throw new Error(`data[${position}].index ${index} is out of range or repeated`);
    }
    vectors[index] = embedding as number[];
  });
  return vectors;
}

/**
 * Cosine of each answer with its case's reference. Cases without a reference are skipped (listed);
 * a case whose arms all failed to generate has no result. Throws naming the case when the endpoint
 * answers badly (wrong count, vectors of different lengths, a zero vector).
 */
export async function similarity(options: SimilarityOptions): Promise<SimilarityRun> {
  const context: CallContext = {
    limiter: options.limiter ?? limit(options.concurrency ?? 4),
    ...(options.cache ? { cache: options.cache } : {}),
    ...(options.post ? { post: options.post } : {}),
  };
  const url = endpointUrl(options.endpoint, "/v1/embeddings");
  const byCase = new Map<string, Generation[]>();
  for (const generation of options.generations) {
    byCase.set(generation.caseId, [...(byCase.get(generation.caseId) ?? []), generation]);
  }
  const skipped = options.cases.filter((testCase) => testCase.reference === undefined).map((each) => each.id);
  const perCase = await Promise.all(
    options.cases.map(async (testCase): Promise<SimilarityResult[]> => {
      const answers = (byCase.get(testCase.id) ?? []).toSorted(
        (a, b) => Number(a.arm === "treatment") - Number(b.arm === "treatment"),
      );
      if (testCase.reference === undefined || answers.length === 0) return [];
      const input = [testCase.reference, ...answers.map((answer) => answer.text)];
      try {
        const { json } = await cachedPostJson(url, { model: options.model, input }, context);
        const [reference, ...vectors] = readEmbeddings(json, input.length);
        return answers.map((answer, i) => ({
          caseId: testCase.id,
          arm: answer.arm as Arm,
          cosine: cosine(vectors[i] as number[], reference as number[]),
          model: options.model,
        }));
      } catch (error) {
        throw new Error(`embedding similarity of case "${testCase.id}": ${(error as Error).message}`, {
          cause: error,
        });
      }
    }),
  );
  return { results: perCase.flat(), skipped };
}
