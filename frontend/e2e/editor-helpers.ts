import {
  type APIRequestContext,
  test as base,
  expect,
  type Locator,
  type Page,
} from "@playwright/test";

/** Playwright's `test`, failing any test during which the page threw an uncaught error. */
export const test = base.extend({
  page: async ({ page }, use) => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await use(page);
    expect(errors, "uncaught errors in the page").toEqual([]);
  },
});

export { expect };

export interface NodeSpec {
  readonly id: string;
  readonly operator: string;
  readonly params?: Record<string, unknown>;
  readonly x: number;
  readonly y: number;
}

/** Creates a flow through the API (nodes chained by `[source, sourcePort, target, targetPort]`). */
export async function createFlow(
  request: APIRequestContext,
  name: string,
  nodes: readonly NodeSpec[],
  edges: readonly (readonly [string, string, string, string])[],
): Promise<string> {
  const document = {
    schema: "rivulet.flow/v1",
    id: "",
    name,
    description: "",
    version: 0,
    nodes: nodes.map((node) => ({
      id: node.id,
      operator: node.operator,
      operator_version: 1,
      label: null,
      params: node.params ?? {},
      position: { x: node.x, y: node.y },
      disabled: false,
    })),
    edges: edges.map(([source, sourcePort, target, targetPort]) => ({
      id: `${source}.${sourcePort}-${target}.${targetPort}`,
      source,
      source_port: sourcePort,
      target,
      target_port: targetPort,
    })),
  };
  const response = await request.post("/api/flows", { data: { document, message: "e2e" } });
  expect(response.status(), await response.text()).toBe(201);
  const body = (await response.json()) as { summary: { id: string } };
  return body.summary.id;
}

/**
 * Drags an operator from the palette onto the canvas at (x, y) relative to the canvas: the HTML5
 * drag events a browser fires (dragstart on the palette item, dragover and drop on the canvas),
 * carrying one DataTransfer as a real drag does.
 */
export async function dropOperator(page: Page, operatorId: string, x: number, y: number) {
  const item = page.getByTestId(`palette-item-${operatorId}`);
  const canvas = page.getByTestId("flow-canvas");
  await item.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  if (!box) throw new Error("canvas not visible");
  const point = { clientX: box.x + x, clientY: box.y + y };
  const dataTransfer = await page.evaluateHandle(() => new DataTransfer());
  await item.dispatchEvent("dragstart", { dataTransfer });
  await canvas.dispatchEvent("dragenter", { dataTransfer, ...point });
  await canvas.dispatchEvent("dragover", { dataTransfer, ...point });
  await canvas.dispatchEvent("drop", { dataTransfer, ...point });
  await item.dispatchEvent("dragend", { dataTransfer });
}

export function node(page: Page, nodeId: string): Locator {
  return page.getByTestId(`node-${nodeId}`);
}

/** Selects a node by clicking its header (never covered by its own widgets). */
export async function selectNode(page: Page, nodeId: string): Promise<void> {
  await node(page, nodeId).locator(".op-node__header").click();
}

export function handle(page: Page, nodeId: string, kind: "input" | "output", port: string) {
  return node(page, nodeId).getByTestId(`handle-${kind}-${port}`);
}

/** Draws a connection by dragging between two handles with the mouse; `hover` runs mid-drag. */
export async function connect(
  page: Page,
  from: Locator,
  to: Locator,
  hover?: () => Promise<void>,
): Promise<void> {
  const start = await from.boundingBox();
  const end = await to.boundingBox();
  if (!start || !end) throw new Error("handle not visible");
  await page.mouse.move(start.x + start.width / 2, start.y + start.height / 2);
  await page.mouse.down();
  await page.mouse.move(end.x + end.width / 2 - 20, end.y + end.height / 2, { steps: 8 });
  await page.mouse.move(end.x + end.width / 2, end.y + end.height / 2, { steps: 4 });
  if (hover) await hover();
  await page.mouse.up();
}

/**
 * A typical flow: seven nodes in four columns (the README's picture); `pace` waits `delaySeconds`
 * (long enough to catch the run going, or 0).
 */
export function riverNodes(delaySeconds: number): readonly NodeSpec[] {
  return [
    {
      id: "topic",
      operator: "core.constant",
      params: { value: "rivers", type: "Text" },
      x: 0,
      y: 0,
    },
    {
      id: "facts",
      operator: "core.constant",
      params: { value: { name: "Nile", length_km: 6650 }, type: "Json" },
      x: 0,
      y: 200,
    },
    {
      id: "write",
      operator: "core.template",
      params: {
        template: "A note on {{ topic }}: the {{ facts.name }} runs {{ facts.length_km }} km.",
      },
      x: 340,
      y: 40,
    },
    { id: "pace", operator: "core.delay", params: { seconds: delaySeconds }, x: 680, y: 0 },
    { id: "summary", operator: "core.output", params: { name: "summary" }, x: 1000, y: 0 },
    {
      id: "length",
      operator: "core.json_extract",
      params: { path: "$.length_km", type: "Int" },
      x: 340,
      y: 300,
    },
    { id: "km", operator: "core.output", params: { name: "length_km" }, x: 680, y: 300 },
  ];
}

/** The edges of `riverNodes`. */
export const RIVER_EDGES = [
  ["topic", "value", "write", "topic"],
  ["facts", "value", "write", "facts"],
  ["write", "text", "pace", "value"],
  ["pace", "value", "summary", "value"],
  ["facts", "value", "length", "value"],
  ["length", "value", "km", "value"],
] as const;
