import { describe, expect, it } from "vitest";
import { forwardedRequestHeaders, forwardedResponseHeaders } from "../../router/proxy-headers.ts";

describe("headers passed through the proxy", () => {
  it("sends upstream the client's end-to-end headers only, with a JSON content type", () => {
    expect(
      forwardedRequestHeaders({
        host: "router:8080",
        connection: "keep-alive, x-trace-hop",
        "keep-alive": "timeout=5",
        "x-trace-hop": "1",
        "content-length": "120",
        "content-type": "application/json; charset=utf-8",
        "transfer-encoding": "chunked",
        "accept-encoding": "gzip, br",
        expect: "100-continue",
        te: "trailers",
        upgrade: "h2c",
        "proxy-authorization": "Basic x",
        authorization: "Bearer app-key",
        "x-llm-ab-unit": "user-1",
        "set-cookie": ["a=1", "b=2"],
      }),
    ).toEqual({
      authorization: "Bearer app-key",
      "x-llm-ab-unit": "user-1",
      "set-cookie": ["a=1", "b=2"],
      "content-type": "application/json",
    });
  });

  it("sends the client the upstream's end-to-end headers only; Node frames the body itself", () => {
    expect(
      forwardedResponseHeaders({
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "transfer-encoding": "chunked",
        connection: "keep-alive, x-upstream-hop",
        "keep-alive": "timeout=5",
        "x-upstream-hop": "1",
        "proxy-authenticate": "Basic",
        "content-length": "42",
        "x-request-id": "r-1",
      }),
    ).toEqual({
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "content-length": "42",
      "x-request-id": "r-1",
    });
  });
});
