import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIRequestContext } from "@playwright/test";

/**
 * A tiny scripted OpenAI-compatible server on 127.0.0.1 for browser tests (the e2e twin of
 * tests/integration/openai_server.py): `POST /v1/chat/completions` answers with the first rule
 * whose every `when` text occurs in the request's messages, else `fallback`; streamed (SSE) or
 * JSON as asked. The backend reaches it through the real `openai_compatible` provider.
 */
export interface ScriptRule {
  /** Texts that must all appear in the messages (case-insensitive). */
  readonly when: readonly string[];
  readonly answer: string;
}

export interface ScriptedModel {
  readonly url: string;
  /** The messages of every chat request, joined, in order. */
  readonly prompts: string[];
  close(): Promise<void>;
}

interface ChatBody {
  readonly stream?: boolean;
  readonly messages?: readonly { content?: unknown }[];
}

const text = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content.map((part) => (part as { text?: string }).text ?? "").join("")
      : "";

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startScriptedModel(
  rules: readonly ScriptRule[],
  fallback = "The table shows the totals.",
): Promise<ScriptedModel> {
  const prompts: string[] = [];
  const server: Server = createServer((request, response) => {
    void readBody(request).then((raw) => {
      if (request.method !== "POST" || !request.url?.endsWith("/chat/completions")) {
        response.writeHead(404, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: { message: "no such route" } }));
        return;
      }
      const body = JSON.parse(raw || "{}") as ChatBody;
      const prompt = (body.messages ?? []).map((message) => text(message.content)).join("\n");
      prompts.push(prompt);
      const lowered = prompt.toLowerCase();
      const rule = rules.find((candidate) =>
        candidate.when.every((needle) => lowered.includes(needle.toLowerCase())),
      );
      const answer = rule?.answer ?? fallback;
      const usage = { prompt_tokens: Math.ceil(prompt.length / 4), completion_tokens: 12 };
      if (!body.stream) {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(
          JSON.stringify({
            id: "scripted",
            object: "chat.completion",
            choices: [
              { index: 0, message: { role: "assistant", content: answer }, finish_reason: "stop" },
            ],
            usage,
          }),
        );
        return;
      }
      response.writeHead(200, { "content-type": "text/event-stream" });
      const send = (event: unknown) => response.write(`data: ${JSON.stringify(event)}\n\n`);
      const choice = (delta: object, finish: string | null = null) => ({
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
      send(choice({ role: "assistant" }));
      for (const piece of answer.match(/[\s\S]{1,24}/g) ?? []) send(choice({ content: piece }));
      send(choice({}, "stop"));
      send({ choices: [], usage });
      response.end("data: [DONE]\n\n");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    prompts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Registers `url` as the chat model `name` (openai_compatible, loopback allowed by the admin). */
export async function registerScriptedModel(
  request: APIRequestContext,
  name: string,
  url: string,
): Promise<void> {
  const response = await request.put(`/api/models/${name}`, {
    data: {
      provider: "openai_compatible",
      kind: "chat",
      params: { base_url: url, model: "scripted" },
      allow_private_network: true,
      timeout_s: 30,
    },
  });
  if (!response.ok()) {
    throw new Error(`registering model ${name}: ${response.status()} ${await response.text()}`);
  }
}
