import type { AskResult, Datasource, SchemaInfo } from "../api/datasources";

const at = "2025-01-01T12:00:00Z";

export const adminMe = {
  is_admin: true,
  kind: "session",
  role: "admin",
  user_id: "u-admin",
  username: "admin",
};

export const editorMe = {
  is_admin: false,
  kind: "session",
  role: "editor",
  user_id: "u-ed",
  username: "ed",
};

export function datasourceFixture(overrides: Partial<Datasource> = {}): Datasource {
  return {
    id: "ds1",
    name: "shop",
    kind: "sqlite",
    dialect: "sqlite",
    description: "The sample shop",
    config: { path: "/home/rivulet/samples/shop.sqlite" },
    owner_id: null,
    examples: 0,
    table_count: 6,
    schema_refreshed_at: null,
    created_at: at,
    updated_at: at,
    ...overrides,
  };
}

const column = (name: string, type: string) => ({
  name,
  type,
  comment: "",
  nullable: true,
  primary_key: false,
});

export const schemaFixture: SchemaInfo = {
  datasource: "shop",
  dialect: "sqlite",
  refreshed_at: at,
  tables: [
    {
      name: "customers",
      kind: "table",
      comment: "People who ordered",
      row_count: 40,
      columns: [
        { ...column("id", "INTEGER"), primary_key: true, nullable: false, samples: [1, 2] },
        { ...column("name", "TEXT"), comment: "Full name", samples: ["Ada", "Linus"] },
      ],
    },
    {
      name: "orders",
      kind: "table",
      comment: "",
      row_count: 120,
      columns: [
        { ...column("id", "INTEGER"), primary_key: true },
        { ...column("customer_id", "INTEGER"), references: "customers.id" },
        column("total", "REAL"),
      ],
    },
  ],
};

export const salesTable = {
  columns: ["region", "total"],
  rows: [
    ["north", 120.5],
    ["south", 80],
  ],
  types: ["text", "number"],
  truncated: false,
};

export function askFixture(
  overrides: Partial<AskResult["result"]> = {},
  chart: AskResult["chart"] = salesChart,
): AskResult {
  return { result: resultFixture(overrides), chart };
}

export const salesChart = {
  title: "Total per region",
  kind: "bar",
  option: {
    xAxis: { type: "category", data: ["north", "south"] },
    yAxis: { type: "value" },
    series: [{ type: "bar", data: [120.5, 80] }],
  },
};

function resultFixture(overrides: Partial<AskResult["result"]>): AskResult["result"] {
  return {
    ok: true,
    question: "Total per region?",
    datasource: "shop",
    dialect: "sqlite",
    sql: "SELECT region, SUM(total) AS total FROM orders GROUP BY region LIMIT 1001",
    table: salesTable,
    linked_tables: ["orders"],
    attempts: [
      {
        attempt: 0,
        raw: "SELECT regio FROM orders",
        sql: "SELECT regio FROM orders",
        error: "no such column: regio",
        stage: "guard",
        duration_ms: 3,
      },
      {
        attempt: 1,
        raw: "SELECT region, SUM(total) AS total FROM orders GROUP BY region",
        sql: "SELECT region, SUM(total) AS total FROM orders GROUP BY region",
        duration_ms: 2,
      },
    ],
    model: "default",
    prompt: "You are an expert SQLite SQL writer.",
    ...overrides,
  };
}
