/**
 * `npm run gen:ws` writes `src/api/generated/ws.d.ts` from `../schemas/ws.v1.schema.json` (the `/api/ws`
 * protocol as the backend exports it from `rivulet.domain.runs.protocol`); `npm run check:ws` (`--check`)
 * fails when that file is not exactly what the schema generates, like `check:api` for the HTTP client.
 *
 * The schema is a JSON Schema with every message under `$defs`. openapi-typescript, which already
 * generates the HTTP client's types, reads those as the components of an otherwise empty OpenAPI 3.1
 * document, so the messages come out as `components["schemas"]["RunAccepted"]` and so on.
 * `src/runs/run-socket.ts` uses them.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";

const SCHEMA = new URL("../../schemas/ws.v1.schema.json", import.meta.url);
const OUTPUT = new URL("../src/api/generated/ws.d.ts", import.meta.url);

const text = readFileSync(SCHEMA, "utf8").replaceAll('"#/$defs/', '"#/components/schemas/');
const schema = JSON.parse(text);
const document = {
  openapi: "3.1.0",
  info: { title: schema.title, version: schema.$id },
  paths: {},
  components: { schemas: schema.$defs },
};
// A field with a default may be absent (a client omits it); `{"type": "object"}` holds any JSON values.
const options = {
  defaultNonNullable: false,
  emptyObjectsUnknown: true,
  immutable: true,
  silent: true,
};
const generated = COMMENT_HEADER + astToString(await openapiTS(document, options));

if (process.argv.includes("--check")) {
  if (!existsSync(OUTPUT) || readFileSync(OUTPUT, "utf8") !== generated) {
    console.error(
      "src/api/generated/ws.d.ts is not up to date with schemas/ws.v1.schema.json: run `make schemas`",
    );
    process.exit(1);
  }
} else {
  writeFileSync(OUTPUT, generated);
}
