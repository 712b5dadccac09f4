import { screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { jsonResponse, stubServer } from "../test/fake-server";
import { renderWithClient } from "../test/render-with-client";
import { RunsPage } from "./runs-page";

const run = (id: string, feedback: "up" | "down" | null) => ({
  id,
  flow_id: "flow-1",
  flow_version: 2,
  flow_name: "Helper",
  flow_updated_at: "2026-12-06T10:00:00Z",
  status: "succeeded",
  trigger: "app",
  inputs: {},
  outputs: {},
  created_at: "2026-12-06T10:00:00Z",
  started_at: "2026-12-06T10:00:00Z",
  finished_at: "2026-12-06T10:00:01.500Z",
  feedback,
});

describe("RunsPage", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("links each run to its trace and shows a chat app's rating", async () => {
    stubServer({ "GET /api/runs": () => jsonResponse([run("run-a", "down"), run("run-b", null)]) });
    renderWithClient(<RunsPage />);
    const traces = await screen.findAllByTestId("run-trace-link");
    expect(traces.map((link) => link.getAttribute("href"))).toEqual(["/runs/run-a", "/runs/run-b"]);
    const ratings = screen.getAllByTestId("run-feedback");
    expect(ratings).toHaveLength(1);
    expect(ratings[0]).toHaveAttribute("title", "Rated bad in a chat app");
    expect(screen.getAllByText(/Helper/).length).toBeGreaterThan(0);
  });
});
