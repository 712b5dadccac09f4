import type { Page } from "@playwright/test";
import { docScreenshot, SCREENSHOT_TAG } from "./doc-screenshots";
import {
  createFlow,
  dropOperator,
  expect,
  handle,
  node,
  RIVER_EDGES,
  riverNodes,
  selectNode,
  test,
} from "./editor-helpers";

/** The canvas transform (`translate(x, y) scale(z)`) as numbers. */
async function viewport(page: Page) {
  const transform = await page
    .locator(".react-flow__viewport")
    .evaluate((element) => getComputedStyle(element).transform);
  const [a = 1, , , , x = 0, y = 0] = (transform.match(/-?[\d.e]+/g) ?? []).map(Number);
  return { x, y, zoom: a };
}

const RIVER = riverNodes(0);

test("adding nodes keeps the view, and a new node never lands on another", async ({ page }) => {
  await page.goto("/flows/new");
  await expect(page.getByTestId("palette-item-core.constant")).toBeVisible();
  const before = await viewport(page);

  await dropOperator(page, "core.constant", 220, 160);
  await expect(node(page, "constant_1")).toBeVisible();
  // The toolbar keeps to one line (its badges appear now), so the canvas does not move down.
  await expect(page.getByTestId("dirty-badge")).toBeVisible();
  const toolbar = page.getByTestId("editor-toolbar");
  expect(await toolbar.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(
    true,
  );
  expect((await toolbar.boundingBox())?.height).toBeLessThanOrEqual(49);
  // The first drop used to refit (zoom onto the one node), so the next one landed on top of it.
  expect(await viewport(page)).toEqual(before);
  const first = await node(page, "constant_1").boundingBox();

  await dropOperator(page, "core.output", 520, 160);
  await expect(node(page, "output_1")).toBeVisible();
  expect(await viewport(page)).toEqual(before);
  const second = await node(page, "output_1").boundingBox();
  // Dropped 300 px to the right of the first: it lands there, next to it.
  expect(Math.round((second?.x ?? 0) - (first?.x ?? 0))).toBe(300);

  // Dropped exactly on the first: moved off it, down and right.
  await dropOperator(page, "core.delay", 220, 160);
  const third = await node(page, "delay_1").boundingBox();
  expect((third?.x ?? 0) - (first?.x ?? 0)).toBeGreaterThanOrEqual(30);
  expect((third?.y ?? 0) - (first?.y ?? 0)).toBeGreaterThanOrEqual(30);

  // Adding twice from the palette (double-click): two different places, same view.
  await page.getByTestId("palette-item-core.template").dblclick();
  await page.getByTestId("palette-item-core.template").dblclick();
  const a = await node(page, "template_1").boundingBox();
  const b = await node(page, "template_2").boundingBox();
  expect(a && b && (a.x !== b.x || a.y !== b.y)).toBe(true);
  expect(await viewport(page)).toEqual(before);
});

test("a flow opens at a zoom where ports are easy to hit, clear of the minimap", {
  tag: SCREENSHOT_TAG,
}, async ({ page, request }) => {
  const flowId = await createFlow(request, "Ports at fit zoom", RIVER, RIVER_EDGES);
  await page.goto(`/flows/${flowId}`);
  await expect(page.locator(".react-flow__edge")).toHaveCount(6);
  await expect.poll(async () => (await viewport(page)).zoom).toBeGreaterThanOrEqual(0.5);

  // Every port answers the pointer 6 px left and right and 5.5 px above and below its centre
  // (its 32x26 hit area is 16.7x13.5 px on screen at the zoom this flow opens at).
  const misses = await page.evaluate(() => {
    const missed: string[] = [];
    for (const element of Array.from(document.querySelectorAll<HTMLElement>(".op-handle"))) {
      const box = element.getBoundingClientRect();
      const cx = box.left + box.width / 2;
      const cy = box.top + box.height / 2;
      for (const [dx, dy] of [
        [-6, 0],
        [6, 0],
        [0, -5.5],
        [0, 5.5],
      ] as const) {
        const hit = document.elementFromPoint(cx + dx, cy + dy)?.closest(".op-handle");
        if (hit !== element) missed.push(`${element.dataset.testid} ${dx},${dy}`);
      }
    }
    return missed;
  });
  expect(misses).toEqual([]);

  // The minimap covers no node.
  const minimap = await page.locator(".react-flow__minimap").boundingBox();
  expect(minimap).not.toBeNull();
  for (const spec of RIVER) {
    const box = await node(page, spec.id).boundingBox();
    if (!box || !minimap) continue;
    const overlaps =
      box.x < minimap.x + minimap.width &&
      minimap.x < box.x + box.width &&
      box.y < minimap.y + minimap.height &&
      minimap.y < box.y + box.height;
    expect(overlaps, `${spec.id} under the minimap`).toBe(false);
  }
  await docScreenshot(page, "editor-fit.png");

  // The minimap can be hidden, and stays hidden after a reload.
  await page.getByTestId("toggle-minimap").click();
  await expect(page.locator(".react-flow__minimap")).toHaveCount(0);
  await page.reload();
  await expect(page.locator(".react-flow__edge")).toHaveCount(6);
  await expect(page.locator(".react-flow__minimap")).toHaveCount(0);
  await page.getByTestId("toggle-minimap").click();
  await expect(page.locator(".react-flow__minimap")).toBeVisible();
});

test("operators and categories have icons in the palette and on nodes", async ({
  page,
  request,
}) => {
  const flowId = await createFlow(
    request,
    "Icons",
    [
      { id: "ask", operator: "llm.chat", x: 0, y: 0 },
      { id: "pin", operator: "core.constant", x: 0, y: 220 },
    ],
    [],
  );
  await page.goto(`/flows/${flowId}`);
  const palette = page.getByTestId("palette");
  await expect(palette.locator(".palette__heading svg").first()).toBeVisible();
  expect(await palette.locator(".palette__heading svg").count()).toBe(
    await palette.locator(".palette__heading").count(),
  );
  await expect(
    page.getByTestId("palette-item-llm.chat").locator("[data-icon=message-circle]"),
  ).toBeVisible();
  await expect(node(page, "ask").locator("[data-testid=node-icon] svg")).toHaveAttribute(
    "data-icon",
    "message-circle",
  );
  await expect(node(page, "pin").locator("[data-testid=node-icon] svg")).toHaveAttribute(
    "data-icon",
    "pin",
  );
});

test("long output scrolls inside its node and its panels; the page never scrolls", {
  tag: SCREENSHOT_TAG,
}, async ({ page, request }) => {
  test.setTimeout(60_000);
  const long = Array.from(
    { length: 400 },
    (_, index) => `Line ${index + 1}: the river keeps running.`,
  ).join("\n");
  const flowId = await createFlow(
    request,
    "Long output",
    [
      { id: "story", operator: "core.constant", params: { value: long, type: "Text" }, x: 0, y: 0 },
      { id: "result", operator: "core.output", params: { name: "story" }, x: 340, y: 0 },
      {
        id: "next",
        operator: "core.constant",
        params: { value: "below", type: "Text" },
        x: 0,
        y: 240,
      },
    ],
    [["story", "value", "result", "value"]],
  );
  await page.goto(`/flows/${flowId}`);
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);
  const nextBefore = await node(page, "next").boundingBox();
  await page.getByTestId("run").click();
  await expect(page.getByTestId("run-status")).toHaveText("succeeded", { timeout: 20_000 });

  // The node stays bounded: it does not grow over its neighbour below.
  const output = node(page, "story").getByTestId("node-output");
  await expect(output).toContainText("Line 1:");
  const storyBox = await node(page, "story").boundingBox();
  const nextBox = await node(page, "next").boundingBox();
  expect({ x: nextBox?.x, y: nextBox?.y }).toEqual({ x: nextBefore?.x, y: nextBefore?.y });
  expect((storyBox?.y ?? 0) + (storyBox?.height ?? 0)).toBeLessThan(nextBox?.y ?? 0);

  // The wheel over the output scrolls it, and does not zoom the canvas.
  const view = await viewport(page);
  await output.hover();
  await page.mouse.wheel(0, 200);
  await expect.poll(() => output.evaluate((element) => element.scrollTop)).toBeGreaterThan(0);
  expect(await viewport(page)).toEqual(view);

  // The inspector shows all of it and scrolls on its own; so does the run panel.
  await selectNode(page, "result");
  await page.getByTestId("inspector-tab-run").click();
  await expect(page.getByTestId("inspector-run")).toContainText("Line 16:");
  await page.getByTestId("run-tab-output").click();
  await expect(page.getByTestId("run-outputs")).toContainText("Line 1:");

  const layout = await page.evaluate(() => {
    const rect = (selector: string) => {
      const box = document.querySelector(selector)?.getBoundingClientRect();
      return box ? { top: box.top, bottom: box.bottom } : null;
    };
    const scrolls = (selector: string) => {
      const element = document.querySelector(selector);
      return element ? element.scrollHeight > element.clientHeight : null;
    };
    return {
      documentHeight: document.scrollingElement?.scrollHeight ?? 0,
      innerHeight: window.innerHeight,
      toolbar: rect(".editor__toolbar"),
      runPanel: rect(".run-panel"),
      inspectorScrolls: scrolls(".inspector"),
    };
  });
  expect(layout.documentHeight).toBeLessThanOrEqual(layout.innerHeight);
  expect(layout.toolbar?.top).toBeGreaterThanOrEqual(0);
  expect(layout.runPanel?.bottom).toBeLessThanOrEqual(layout.innerHeight);
  expect(layout.inspectorScrolls).toBe(true);
  await expect(page.getByTestId("run")).toBeInViewport();
  await expect(page.getByTestId("run-panel")).toBeInViewport();

  // Scrolling the inspector to its end moves nothing else.
  await page.locator(".inspector").evaluate((element) => {
    element.scrollTop = element.scrollHeight;
  });
  await page.mouse.move(10, 10);
  await page.locator(".inspector").hover();
  await page.mouse.wheel(0, 2_000);
  expect(await page.evaluate(() => document.scrollingElement?.scrollTop ?? 0)).toBe(0);
  await expect(page.getByTestId("run")).toBeInViewport();
  await docScreenshot(page, "editor-long-output.png");
});

test("a port is grabbed from its hit area, beside the dot", async ({ page, request }) => {
  const flowId = await createFlow(
    request,
    "Grab beside the dot",
    [
      { id: "source", operator: "core.constant", params: { value: "x", type: "Text" }, x: 0, y: 0 },
      { id: "sink", operator: "core.output", params: { name: "out" }, x: 360, y: 0 },
    ],
    [],
  );
  await page.goto(`/flows/${flowId}`);
  await expect(node(page, "sink")).toBeVisible();
  const from = await handle(page, "source", "output", "value").boundingBox();
  const to = await handle(page, "sink", "input", "value").boundingBox();
  if (!from || !to) throw new Error("handles not visible");
  // 5 px off each dot's edge: outside the visible dot, inside the hit area.
  await page.mouse.move(from.x + from.width + 5, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(to.x - 20, to.y + to.height / 2, { steps: 8 });
  await page.mouse.move(to.x - 5, to.y + to.height / 2, { steps: 4 });
  await page.mouse.up();
  await expect(page.locator(".react-flow__edge")).toHaveCount(1);
});

test("every template card in the gallery draws its flow", { tag: SCREENSHOT_TAG }, async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto("/templates");
  const cards = page.getByRole("list", { name: "Templates" }).getByRole("listitem");
  await expect(cards).not.toHaveCount(0);
  const count = await cards.count();
  expect(count).toBeGreaterThanOrEqual(6);
  // Cards load their flow once seen: scroll each into view, then it has its picture.
  for (let index = 0; index < count; index++) {
    const card = cards.nth(index);
    await card.scrollIntoViewIfNeeded();
    const thumbnail = card.getByTestId("flow-thumbnail");
    await expect(thumbnail).toBeVisible();
    expect(await thumbnail.locator("[data-node-id]").count()).toBeGreaterThan(0);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await docScreenshot(page, "templates-cards.png");
});
