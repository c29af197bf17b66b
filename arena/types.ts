/**
 * The offline gate's nouns, shared by its parts: golden cases and rubrics (what is judged), the
 * generations of each variant (what was produced, with everything needed to reproduce the call),
 * evaluator results at three levels, and the configuration of the judge that produced them.
 *
 * Level 1 checks are deterministic (contains, regex, length, JSON schema); Level 2 compares an
 * answer with the reference through embeddings; Level 3 asks a judge model: a rubric score per axis
 * and a pairwise preference asked in both orders.
 */

/** An OpenAI chat message as golden cases hold them. */
export interface ChatMessage {
  readonly role: "system" | "user" | "assistant";
  readonly content: string;
}

/** A deterministic check on an answer (Level 1). */
export type Level1Check =
  | { readonly kind: "contains"; readonly text: string; readonly caseSensitive?: boolean }
  | { readonly kind: "notContains"; readonly text: string; readonly caseSensitive?: boolean }
  | { readonly kind: "regex"; readonly pattern: string; readonly flags?: string }
  | { readonly kind: "minLength"; readonly chars: number }
  | { readonly kind: "maxLength"; readonly chars: number }
  | { readonly kind: "jsonSchema"; readonly schema: Readonly<Record<string, unknown>> };

/** One line of a golden dataset (JSONL). */
export interface GoldenCase {
  /** Unique in the dataset; names the case in every report and error. */
  readonly id: string;
  /** The conversation so far, ending with the user's turn. The variant's system prompt is applied as the router would. */
  readonly messages: readonly ChatMessage[];
  /** Facts the answer may use (order details, the relevant policy), given to the model as a system message after the variant's prompt. */
  readonly context?: string;
  /** A good answer, for Level 2 similarity and for the judges. */
  readonly reference?: string;
  /** e.g. `critical` (a Level-1 failure on it fails the gate), `refund`, `shipping`. */
  readonly tags: readonly string[];
  /** Level-1 checks of this case (the arena config may add checks for every case). */
  readonly checks: readonly Level1Check[];
}

/** A rubric axis scored 1–5, with what each score means. */
export interface RubricAxis {
  /** snake_case, e.g. `policy_citation`. */
  readonly name: string;
  readonly description: string;
  /** What a 1, 3 and 5 look like (at least these; 2 and 4 are in between). */
  readonly anchors: Readonly<Record<"1" | "2" | "3" | "4" | "5", string | undefined>>;
}

export interface Rubric {
  readonly name: string;
  /** Extra instructions for the judge. */
  readonly instructions?: string;
  readonly axes: readonly RubricAxis[];
}

/** The two arms of the gate. */
export type Arm = "control" | "treatment";

/** One call to a variant's model for one case, and its answer. */
export interface Generation {
  readonly caseId: string;
  /** The spec's variant name. */
  readonly variant: string;
  readonly arm: Arm;
  readonly deployment: string;
  /** Base URL of the OpenAI-compatible endpoint that answered. */
  readonly endpoint: string;
  /** Model name sent. */
  readonly model: string;
  /** Sampling parameters sent (temperature, top_p, max_tokens, seed, ...). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Seed sent for deterministic decoding (where the endpoint supports it). */
  readonly seed: number;
  /** sha256 of the canonical request body: the cache key; equal requests are one call. */
  readonly requestHash: string;
  readonly text: string;
  readonly finishReason: string | null;
  readonly usage?: { readonly promptTokens: number; readonly completionTokens: number };
  /** Time the successful attempt took, ms. */
  readonly latencyMs: number;
  /** Attempts made (1 = no retry). */
  readonly attempts: number;
  /** ISO time of the successful call. */
  readonly at: string;
}

/** Which judge produced a score, recorded with every score. */
export interface JudgeConfig {
  readonly endpoint: string;
  readonly model: string;
  readonly temperature: number;
  readonly seed: number;
  /** Version of the judge prompt template (changes when the prompt text changes). */
  readonly promptVersion: string;
}

/** Result of one Level-1 check on one answer. */
export interface Level1Result {
  readonly caseId: string;
  readonly arm: Arm;
  /** e.g. `contains "order #44129"`. */
  readonly check: string;
  readonly passed: boolean;
  /** Why it failed (the schema error, the length). */
  readonly detail?: string;
}

/** Level 2: cosine similarity of an answer's embedding with the reference's. */
export interface SimilarityResult {
  readonly caseId: string;
  readonly arm: Arm;
  readonly cosine: number;
  readonly model: string;
}

/** Level 3: a judge's 1–5 score of one answer per rubric axis. */
export interface RubricScore {
  readonly caseId: string;
  readonly arm: Arm;
  readonly scores: Readonly<Record<string, number>>;
  readonly judge: JudgeConfig;
}

/** Which answer a pairwise judge preferred in one presentation order. */
export interface PairwiseOrder {
  /** Which arm was shown first (as "A"). */
  readonly first: Arm;
  readonly preferred: Arm | "tie";
  /** The judge's raw answer, kept for audit. */
  readonly raw: string;
}

/**
 * Level 3: a pairwise judgement asked in both orders. Agreeing orders give the verdict; orders
 * that disagree (each preferring the answer in the same position) become a tie and count as
 * position-inconsistent.
 */
export interface PairwiseJudgement {
  readonly caseId: string;
  readonly orders: readonly [PairwiseOrder, PairwiseOrder];
  readonly verdict: Arm | "tie";
  readonly consistent: boolean;
  readonly judge: JudgeConfig;
}

/** One human label of the audit file: which answer a person preferred on a case. */
export interface AuditLabel {
  readonly caseId: string;
  readonly preferred: Arm | "tie";
}
