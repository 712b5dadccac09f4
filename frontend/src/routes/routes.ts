import { lazy } from "react";
import { ModelsPage } from "../models/models-page";
import { FlowsPage } from "./flows-page";
import type { RouteDefinition } from "./router";
import { RunsPage } from "./runs-page";
import { SettingsPage } from "./settings-page";
import { TemplatesPage } from "./templates-page";

/** One component for both editor routes, so saving a new flow keeps the editor mounted. */
const FlowEditorPage = lazy(() => import("./flow-editor-page"));

/** Every page, first match wins. The canvas is split out: React Flow loads only when opened. */
export const routes: readonly RouteDefinition[] = [
  { path: "/", component: FlowsPage },
  { path: "/flows", component: FlowsPage },
  { path: "/flows/new", component: FlowEditorPage },
  { path: "/flows/:flowId", component: FlowEditorPage },
  { path: "/templates", component: TemplatesPage },
  { path: "/runs", component: RunsPage },
  { path: "/runs/:runId", component: lazy(() => import("../runs/run-trace-page")) },
  { path: "/knowledge", component: lazy(() => import("../knowledge/spaces-page")) },
  { path: "/knowledge/:space", component: lazy(() => import("../knowledge/space-page")) },
  { path: "/data", component: lazy(() => import("../data/data-page")) },
  { path: "/data/chat", component: lazy(() => import("../data/chat-excel-page")) },
  { path: "/data/sources/:name", component: lazy(() => import("../data/datasource-page")) },
  { path: "/reports", component: lazy(() => import("../reports/reports-page")) },
  { path: "/reports/:reportId", component: lazy(() => import("../reports/report-page")) },
  { path: "/evaluations", component: lazy(() => import("../evaluations/evaluations-page")) },
  {
    path: "/evaluations/compare/:a/:b",
    component: lazy(() => import("../evaluations/compare-page")),
  },
  { path: "/models", component: ModelsPage },
  { path: "/publishing", component: lazy(() => import("../publishing/publishing-page")) },
  { path: "/settings", component: SettingsPage },
  { path: "/secrets", component: lazy(() => import("../secrets/secrets-page")) },
];
