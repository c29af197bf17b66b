import { describe, expect, it } from "vitest";
import { shapeRequest, type VariantShape } from "../../router/shaping.ts";

const variant = (overrides: Partial<VariantShape> = {}): VariantShape => ({
  model: "llama-8b-policy",
  systemPromptMode: "replace",
  params: {},
  ...overrides,
});

const chat = (messages: unknown[], extra: object = {}) => ({ model: "app-model", messages, ...extra });

describe("shaping a chat request", () => {
  it.each<[string, Partial<VariantShape>, unknown[], unknown[], string]>([
    [
      "replace swaps the content of the application's system message",
      { systemPrompt: "Cite the policy." },
      [
        { role: "system", content: "Be helpful." },
        { role: "user", content: "Hi" },
      ],
      [
        { role: "system", content: "Cite the policy." },
        { role: "user", content: "Hi" },
      ],
      "replaced",
    ],
    [
      "prepend puts the variant's prompt before the application's, in one message",
      { systemPrompt: "Cite the policy.", systemPromptMode: "prepend" },
      [
        { role: "system", content: "Be helpful." },
        { role: "user", content: "Hi" },
      ],
      [
        { role: "system", content: "Cite the policy.\n\nBe helpful." },
        { role: "user", content: "Hi" },
      ],
      "prepended",
    ],
    [
      "prepend before content parts adds a text part first",
      { systemPrompt: "P", systemPromptMode: "prepend" },
      [{ role: "system", content: [{ type: "text", text: "S" }] }],
      [
        {
          role: "system",
          content: [
            { type: "text", text: "P" },
            { type: "text", text: "S" },
          ],
        },
      ],
      "prepended",
    ],
    [
      "a conversation without a system message gets one first",
      { systemPrompt: "P", systemPromptMode: "prepend" },
      [{ role: "user", content: "Hi" }],
      [
        { role: "system", content: "P" },
        { role: "user", content: "Hi" },
      ],
      "inserted",
    ],
    [
      "a developer message counts as the system message, and keeps its role",
      { systemPrompt: "P" },
      [
        { role: "developer", content: "D" },
        { role: "user", content: "Hi" },
      ],
      [
        { role: "developer", content: "P" },
        { role: "user", content: "Hi" },
      ],
      "replaced",
    ],
    [
      "only the first system message is the application's instructions",
      { systemPrompt: "P" },
      [
        { role: "system", content: "S1" },
        { role: "user", content: "Hi" },
        { role: "system", content: "tool context" },
      ],
      [
        { role: "system", content: "P" },
        { role: "user", content: "Hi" },
        { role: "system", content: "tool context" },
      ],
      "replaced",
    ],
    [
      "without a systemPrompt the messages are left alone",
      {},
      [{ role: "system", content: "S" }],
      [{ role: "system", content: "S" }],
      "none",
    ],
  ])("%s", (_, shape, messages, expected, effect) => {
    const body = chat(messages);
    const before = structuredClone(body);
    const shaped = shapeRequest("chat", body, variant(shape));
    expect(shaped.body.messages).toEqual(expected);
    expect(shaped.systemPrompt).toBe(effect);
    expect(body).toEqual(before);
  });

  it("sets the variant's model and sampling parameters, passing the others through", () => {
    const shaped = shapeRequest(
      "chat",
      chat([], { temperature: 0.9, top_p: 0.5, user: "u-1", max_tokens: 64 }),
      variant({ params: { temperature: 0, stop: ["\n\n"], seed: undefined } }),
    );
    expect(shaped.body).toEqual({
      model: "llama-8b-policy",
      messages: [],
      temperature: 0,
      top_p: 0.5,
      user: "u-1",
      max_tokens: 64,
      stop: ["\n\n"],
    });
    expect(shaped.stream).toBe(false);
    expect(shaped.body).not.toHaveProperty("stream_options");
  });

  it("asks a streaming request for usage in the last event, keeping other stream options", () => {
    const shaped = shapeRequest(
      "chat",
      chat([], { stream: true, stream_options: { continuous_usage_stats: false } }),
      variant(),
    );
    expect(shaped.stream).toBe(true);
    expect(shaped.body.stream_options).toEqual({ continuous_usage_stats: false, include_usage: true });
    expect(shapeRequest("chat", chat([], { stream: true }), variant()).body.stream_options).toEqual({
      include_usage: true,
    });
  });
});

describe("shaping a completions request", () => {
  it.each<[string, unknown, unknown, string]>([
    ["a text prompt is prefixed", "Q: hi\nA:", "SYS\n\nQ: hi\nA:", "prepended"],
    ["each prompt of a batch is prefixed", ["a", "b"], ["SYS\n\na", "SYS\n\nb"], "prepended"],
    ["a token-id prompt cannot be prefixed without the tokenizer", [1, 2, 3], [1, 2, 3], "skipped"],
    ["a batch of token-id prompts is left alone", [[1], [2]], [[1], [2]], "skipped"],
    ["a missing prompt becomes the system prompt", undefined, "SYS", "inserted"],
  ])("%s, in either mode", (_, prompt, expected, effect) => {
    for (const systemPromptMode of ["replace", "prepend"] as const) {
      const shaped = shapeRequest(
        "completions",
        { model: "m", prompt },
        variant({ systemPrompt: "SYS", systemPromptMode }),
      );
      expect(shaped.body.prompt).toEqual(expected);
      expect(shaped.systemPrompt).toBe(effect);
    }
  });
});
