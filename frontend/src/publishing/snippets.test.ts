import { describe, expect, it } from "vitest";
import type { EndpointRead } from "../api/publishing";
import { exampleBody, snippet } from "./snippets";

const endpoint: EndpointRead = {
  endpoint: {
    slug: "greet",
    method: "POST",
    flow_id: "f1",
    flow_version: 2,
    trigger_node_id: "http",
  },
  path: "/f/greet",
  description: "",
  response: "json",
  fields: [
    { name: "name", type: "Text", required: true, description: "" },
    { name: "times", type: "Int", required: false, default: 3, description: "" },
    { name: "tags", type: "List[Text]", required: true, description: "" },
  ],
  stats: { calls: 0, errors: 0 },
};

describe("snippets", () => {
  it("builds an example body from the fields", () => {
    expect(exampleBody(endpoint)).toEqual({ name: "…", times: 3, tags: [] });
  });

  it("writes curl with the key from the environment", () => {
    const text = snippet("curl", endpoint, "http://h");
    expect(text).toContain("curl -X POST 'http://h/f/greet'");
    expect(text).toContain('-H "Authorization: Bearer $RIVULET_API_KEY"');
    expect(text).toContain(`-d '{"name":"…","times":3,"tags":[]}'`);
  });

  it("writes Python and JavaScript, streaming for SSE endpoints", () => {
    expect(snippet("python", endpoint, "http://h")).toContain(
      'httpx.request("POST", "http://h/f/greet"',
    );
    const sse = { ...endpoint, response: "sse" as const };
    expect(snippet("python", sse, "http://h")).toContain("httpx.stream(");
    expect(snippet("javascript", sse, "http://h")).toContain("getReader()");
    expect(snippet("curl", sse, "http://h")).toContain("curl -N");
  });

  it("puts GET fields nowhere in a body", () => {
    const get = { ...endpoint, endpoint: { ...endpoint.endpoint, method: "GET" } };
    expect(snippet("curl", get, "http://h")).not.toContain("-d");
    expect(snippet("javascript", get, "http://h")).not.toContain("body:");
  });
});
