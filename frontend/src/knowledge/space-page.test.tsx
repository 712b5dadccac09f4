import { act, fireEvent, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { RouterOutlet } from "../routes/router";
import {
  documentFixture,
  FakeEventSource,
  jobFixture,
  spaceFixture,
  stubApi,
} from "../test/knowledge-fixture";
import { renderWithClient } from "../test/render-with-client";
import { SpacePage } from "./space-page";

const routes = [{ path: "/knowledge/:space", component: SpacePage }];
const Missing = () => <p>missing</p>;

function renderSpace() {
  window.history.replaceState(null, "", "/knowledge/handbook");
  return renderWithClient(<RouterOutlet routes={routes} fallback={Missing} />);
}

const failed = documentFixture({
  id: "d3",
  name: "broken.pdf",
  source: "broken.pdf",
  status: "failed",
  chunk_count: 0,
  size_bytes: 1_500_000,
  error: "broken.pdf: not a PDF file",
});

describe("SpacePage", () => {
  beforeEach(() => {
    FakeEventSource.instances = [];
    vi.stubGlobal("EventSource", FakeEventSource);
  });

  it("shows the space's settings and its documents with status, chunks, size and errors", async () => {
    const calls = stubApi({
      "GET /api/knowledge/spaces/handbook": () => spaceFixture,
      "GET /api/knowledge/spaces/sp1/documents": () => ({
        items: [documentFixture(), failed],
      }),
      "DELETE /api/knowledge/spaces/sp1/documents/d3": () => undefined,
    });
    renderSpace();
    expect(await screen.findByText("default-embedding (384 d)")).toBeVisible();
    expect(screen.getByRole("heading", { level: 1, name: "handbook" })).toBeVisible();
    expect(screen.getByText("recursive, 200 tokens, overlap 30")).toBeVisible();

    const table = await screen.findByRole("table", { name: "Documents" });
    const ready = within(table).getByText("passwords.md").closest("tr") as HTMLElement;
    expect(within(ready).getByText("ready")).toHaveClass("status-badge--succeeded");
    expect(within(ready).getAllByRole("cell")[2]).toHaveTextContent("4");
    expect(within(ready).getAllByRole("cell")[3]).toHaveTextContent("2.0 KB");
    const broken = within(table).getByText("broken.pdf").closest("tr") as HTMLElement;
    expect(within(broken).getByText("failed")).toHaveClass("status-badge--failed");
    expect(within(broken).getByRole("note")).toHaveTextContent("not a PDF file");
    expect(within(broken).getAllByRole("cell")[3]).toHaveTextContent("1.4 MB");

    fireEvent.click(within(broken).getByRole("button", { name: "Delete broken.pdf" }));
    await vi.waitFor(() => expect(calls.some((call) => call.method === "DELETE")).toBe(true));
  });

  it("uploads files and follows the job's progress events to its report", async () => {
    let documents = [documentFixture()];
    const calls = stubApi({
      "GET /api/knowledge/spaces/handbook": () => spaceFixture,
      "GET /api/knowledge/spaces/sp1/documents": () => ({ items: documents }),
      "POST /api/knowledge/spaces/sp1/documents": () => jobFixture(),
    });
    renderSpace();
    const input = await screen.findByLabelText("Choose files");
    // jsdom's File is opaque to Node's fetch: record the form as the browser would send it.
    const append = vi.spyOn(FormData.prototype, "append");
    const files = [
      new File(["alpha text"], "a.txt", { type: "text/plain" }),
      new File(["beta text"], "b.txt", { type: "text/plain" }),
    ];
    fireEvent.change(input, { target: { files } });

    const progress = await screen.findByRole("region", { name: "Ingestion" });
    const upload = calls.find((call) => call.method === "POST");
    expect(upload?.request.headers.get("content-type")).toMatch(/^multipart\/form-data; boundary=/);
    expect(append.mock.calls).toEqual([
      ["files", files[0], "a.txt"],
      ["files", files[1], "b.txt"],
    ]);
    expect(FakeEventSource.last.url).toBe("/api/knowledge/jobs/job1/events");
    const bar = (name: string) => within(progress).getByRole("progressbar", { name });
    expect(bar("Documents")).toHaveAttribute("aria-valuetext", "0 of 2");

    act(() =>
      FakeEventSource.last.emit("progress", {
        documents_done: 1,
        documents_total: 2,
        chunks_done: 3,
        chunks_total: 5,
        document: "b.txt",
      }),
    );
    expect(bar("Documents")).toHaveAttribute("aria-valuetext", "1 of 2");
    expect(bar("Chunks")).toHaveAttribute("aria-valuetext", "3 of 5");
    expect(within(progress).getByRole("status")).toHaveTextContent("Ingesting b.txt…");

    documents = [
      documentFixture(),
      documentFixture({ id: "d4", name: "a.txt", chunk_count: 2 }),
      documentFixture({ id: "d5", name: "b.txt", chunk_count: 3 }),
    ];
    const progressDone = { documents_done: 2, documents_total: 2, chunks_done: 5, chunks_total: 5 };
    act(() =>
      FakeEventSource.last.emit(
        "done",
        jobFixture({
          status: "done",
          progress: progressDone,
          report: {
            space: "handbook",
            chunks_added: 5,
            duration_ms: 1500,
            items: [
              { name: "a.txt", status: "added", chunks: 2, document_id: "d4" },
              { name: "b.txt", status: "added", chunks: 3, document_id: "d5" },
            ],
          },
        }),
      ),
    );
    expect(within(progress).getByRole("status")).toHaveTextContent(
      "Ingestion done: 2 documents, 5 chunks added in 1.5 s",
    );
    expect(FakeEventSource.last.closed).toBe(true);
    const report = within(progress).getByRole("table", { name: "Ingestion report" });
    expect(within(report).getAllByRole("row")).toHaveLength(3);
    const table = screen.getByRole("table", { name: "Documents" });
    expect(await within(table).findByText("b.txt")).toBeVisible();
  });

  it("polls the job when its event stream fails", async () => {
    let polled = 0;
    stubApi({
      "GET /api/knowledge/spaces/handbook": () => spaceFixture,
      "GET /api/knowledge/spaces/sp1/documents": () => ({ items: [] }),
      "POST /api/knowledge/spaces/sp1/documents": () => jobFixture(),
      "GET /api/knowledge/jobs/job1": () => {
        polled += 1;
        return jobFixture({
          status: "failed",
          error: "the embedding model is not configured",
        });
      },
    });
    renderSpace();
    fireEvent.change(await screen.findByLabelText("Choose files"), {
      target: { files: [new File(["x"], "x.txt")] },
    });
    await screen.findByRole("region", { name: "Ingestion" });
    act(() => FakeEventSource.last.fail());
    expect(await screen.findByText("the embedding model is not configured")).toBeVisible();
    expect(polled).toBe(1);
    expect(screen.getByRole("status")).toHaveTextContent("Ingestion failed");
  });

  it("follows an ingestion that was already running when the page opened", async () => {
    stubApi({
      "GET /api/knowledge/spaces/handbook": () => spaceFixture,
      "GET /api/knowledge/spaces/sp1/documents": () => ({ items: [] }),
      "GET /api/knowledge/jobs": ({ request }) => {
        expect(new URL(request.url).searchParams.get("space")).toBe("sp1");
        return { items: [jobFixture({ id: "job0", status: "done" }), jobFixture({ id: "job2" })] };
      },
    });
    renderSpace();
    const progress = await screen.findByRole("region", { name: "Ingestion" });
    expect(FakeEventSource.last.url).toBe("/api/knowledge/jobs/job2/events");
    expect(within(progress).getByRole("progressbar", { name: "Documents" })).toHaveAttribute(
      "aria-valuetext",
      "0 of 2",
    );
  });

  it("adds a URL", async () => {
    const calls = stubApi({
      "GET /api/knowledge/spaces/handbook": () => spaceFixture,
      "GET /api/knowledge/spaces/sp1/documents": () => ({ items: [] }),
      "POST /api/knowledge/spaces/sp1/documents/urls": () =>
        jobFixture({ kind: "urls", documents: ["https://example.com/a"] }),
    });
    renderSpace();
    fireEvent.change(await screen.findByLabelText("URL"), {
      target: { value: "https://example.com/a" },
    });
    fireEvent.click(screen.getByRole("button", { name: "Add URL" }));
    await screen.findByRole("region", { name: "Ingestion" });
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      urls: ["https://example.com/a"],
    });
  });
});
