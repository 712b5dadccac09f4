import { expect, test } from "@playwright/test";

/** `core.input(text) -> core.output(answer)`: the flow answers what it is asked. */
const ECHO = {
  name: "Echo for evaluations",
  nodes: [
    { id: "in", operator: "core.input", params: { name: "text", type: "Text" } },
    { id: "out", operator: "core.output", params: { name: "answer" } },
  ],
  edges: [{ id: "e1", source: "in", source_port: "value", target: "out", target_port: "value" }],
};
const DATASET = [
  '{"text": "hello", "expected": "hello"}',
  '{"text": "good bye", "expected": "bye"}',
  '{"text": "x", "expected": "y"}',
].join("\n");

test("evaluations: two evaluations of a flow are listed and compared side by side", async ({
  page,
}) => {
  const flow = await page.request.post("/api/flows", { data: { document: ECHO } });
  expect(flow.status()).toBe(201);
  const flowId = ((await flow.json()) as { summary: { id: string } }).summary.id;
  const ids: string[] = [];
  for (const [metric, name] of [
    ["exact", "before"],
    ["contains", "after"],
  ] as const) {
    const started = await page.request.post("/api/evaluations", {
      data: { flow_id: flowId, dataset: DATASET, metric, name },
    });
    expect(started.status()).toBe(202);
    const id = ((await started.json()) as { id: string }).id;
    await expect
      .poll(async () => {
        const record = await page.request.get(`/api/evaluations/${id}`);
        return ((await record.json()) as { status: string }).status;
      })
      .toBe("succeeded");
    ids.push(id);
  }

  await page.goto("/");
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: "Evaluations" })
    .click();
  const group = page.getByRole("region", { name: `Evaluations of ${flowId}` });
  await expect(group.getByRole("row")).toHaveCount(3);
  await expect(group.getByRole("row", { name: /after/ })).toContainText("66.7%");
  await expect(group.getByRole("row", { name: /before/ })).toContainText("33.3%");
  for (const id of ids) {
    await group.getByRole("checkbox", { name: new RegExp(`\\(${id}\\)`) }).check();
  }
  await page.getByRole("button", { name: /Compare selected/ }).click();
  await expect(page).toHaveURL(new RegExp(`/evaluations/compare/${ids[0]}/${ids[1]}$`));
  await expect(page.getByLabel("Difference")).toContainText("+33.3 pts");
  const rows = page.getByRole("table", { name: "Items side by side" }).getByRole("row");
  await expect(rows).toHaveCount(4);
  const fixed = page.locator('tr[data-status="fixed"]');
  await expect(fixed).toHaveCount(1);
  await expect(fixed).toContainText("good bye");
  await expect(fixed).toHaveClass(/compare__row--fixed/);
});
