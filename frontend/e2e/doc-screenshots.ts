import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "@playwright/test";

/**
 * The pictures in `docs/img/` are taken from real browser tests, but only by `make screenshots`
 * (`npm run screenshots`: RIVULET_SCREENSHOTS=1 and only the tests tagged `@screenshot`).
 * `make test` runs the same tests and never writes into the docs.
 */
export const SCREENSHOT_TAG = "@screenshot";

const DOCS_IMG = path.resolve(import.meta.dirname, "../../docs/img");
const WRITE_DOC_SCREENSHOTS = process.env.RIVULET_SCREENSHOTS === "1";

/** Saves the page as `docs/img/<name>` under `make screenshots`; does nothing otherwise. */
export async function docScreenshot(page: Page, name: string): Promise<void> {
  if (!WRITE_DOC_SCREENSHOTS) return;
  mkdirSync(DOCS_IMG, { recursive: true });
  await page.screenshot({ path: path.join(DOCS_IMG, name) });
}
