import type { EndpointRead } from "../api/publishing";

export type SnippetLanguage = "curl" | "python" | "javascript";

export const SNIPPET_LANGUAGES: readonly { id: SnippetLanguage; label: string }[] = [
  { id: "curl", label: "curl" },
  { id: "python", label: "Python" },
  { id: "javascript", label: "JavaScript" },
];

const EXAMPLES: Record<string, unknown> = {
  Text: "…",
  Int: 1,
  Float: 1.5,
  Bool: true,
  Json: {},
  Any: null,
};

/** An example body: each field with a placeholder value of its type (defaults for optional fields). */
export function exampleBody(endpoint: EndpointRead): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of endpoint.fields) {
    const type = field.type ?? "Text";
    if (field.required === false && field.default !== undefined && field.default !== null) {
      body[field.name] = field.default;
    } else if (type.startsWith("List[")) {
      body[field.name] = [];
    } else {
      body[field.name] = EXAMPLES[type] ?? null;
    }
  }
  return body;
}

/** A copyable call of `endpoint` at `origin` with the API key placeholder `$RIVULET_API_KEY`. */
export function snippet(language: SnippetLanguage, endpoint: EndpointRead, origin: string): string {
  const url = `${origin}${endpoint.path}`;
  const method = endpoint.endpoint.method;
  const body = JSON.stringify(exampleBody(endpoint));
  const hasBody = method !== "GET";
  const sse = endpoint.response === "sse";
  if (language === "curl") {
    const parts = [
      `curl${sse ? " -N" : ""} -X ${method} '${url}'`,
      `  -H "Authorization: Bearer $RIVULET_API_KEY"`,
    ];
    if (hasBody) parts.push(`  -H 'Content-Type: application/json'`, `  -d '${body}'`);
    return parts.join(" \\\n");
  }
  if (language === "python") {
    const lines = [
      "import os",
      "import httpx",
      "",
      `headers = {"Authorization": f"Bearer {os.environ['RIVULET_API_KEY']}"}`,
    ];
    const args = `"${method}", "${url}", headers=headers${hasBody ? `, json=${body}` : ""}`;
    if (sse) {
      lines.push(`with httpx.stream(${args}, timeout=None) as response:`);
      lines.push("    for line in response.iter_lines():", "        print(line)");
    } else {
      lines.push(`response = httpx.request(${args}, timeout=60)`, "print(response.json())");
    }
    return lines.join("\n");
  }
  const init = [
    `  method: "${method}",`,
    "  headers: {",
    '    Authorization: "Bearer " + process.env.RIVULET_API_KEY,',
    ...(hasBody ? [`    "Content-Type": "application/json",`] : []),
    "  },",
    ...(hasBody ? [`  body: JSON.stringify(${body}),`] : []),
  ];
  const read = sse
    ? [
        "const reader = response.body.getReader();",
        "for (let r = await reader.read(); !r.done; r = await reader.read()) {",
        "  console.log(new TextDecoder().decode(r.value));",
        "}",
      ]
    : ["console.log(await response.json());"];
  return [`const response = await fetch("${url}", {`, ...init, "});", ...read].join("\n");
}
