import { describe, expect, it } from "vitest";
import type { Replica } from "../../router/replicas.ts";
import { classifyFailure, errorCode, upstreamErrorBody } from "../../router/upstream-failure.ts";

const replica = { id: "http://10.0.0.7:8000" } as Replica;
const timeouts = { headersMs: 300_000, idleMs: 60_000 };
const withCode = (code: string, message = "boom") => Object.assign(new Error(message), { code });

describe("upstream failures", () => {
  it.each([
    ["ECONNREFUSED", 502, "upstream_error", true, "refused the connection (ECONNREFUSED): is the server up?"],
    ["EHOSTUNREACH", 502, "upstream_error", true, "failed: boom (EHOSTUNREACH)"],
    ["UND_ERR_CONNECT_TIMEOUT", 504, "upstream_timeout", true, "did not accept a connection in time"],
    ["UND_ERR_HEADERS_TIMEOUT", 504, "upstream_timeout", false, "sent no response headers within 300000 ms"],
    [
      "UND_ERR_BODY_TIMEOUT",
      504,
      "upstream_timeout",
      false,
      "sent nothing for 60000 ms in the middle of its answer",
    ],
    ["ECONNRESET", 502, "upstream_error", false, "failed: boom (ECONNRESET)"],
    ["UND_ERR_SOCKET", 502, "upstream_error", false, "failed: boom (UND_ERR_SOCKET)"],
  ])("%s is a %s %s (retry elsewhere: %s)", (code, status, type, notConnected, says) => {
    const failure = classifyFailure("chat-8b", replica, withCode(code), timeouts);
    expect(failure).toMatchObject({ status, type, notConnected });
    expect(failure.message).toBe(`upstream chat-8b replica http://10.0.0.7:8000 ${says}`);
  });

  it("reads the code of the first address when a happy-eyeballs connect fails on all of them", () => {
    const error = new AggregateError([withCode("ECONNREFUSED"), withCode("ENETUNREACH")], "connect failed");
    expect(errorCode(error)).toBe("ECONNREFUSED");
    expect(classifyFailure("chat-8b", replica, error, timeouts).notConnected).toBe(true);
    expect(errorCode(new Error("no code"))).toBe("");
  });

  it("answers in OpenAI's error shape", () => {
    expect(JSON.parse(upstreamErrorBody(504, "upstream_timeout", "slow"))).toEqual({
      error: { message: "slow", type: "upstream_timeout", code: 504 },
    });
  });
});
