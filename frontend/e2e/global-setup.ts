import { existsSync } from "node:fs";
import path from "node:path";

/** The backend serves frontend/dist; without a build every page is a "not built" notice. */
export default function globalSetup(): void {
  const index = path.resolve(import.meta.dirname, "../dist/index.html");
  if (!existsSync(index)) {
    throw new Error(`${index} is missing: run \`npm run build\` before \`npm run e2e\`.`);
  }
}
