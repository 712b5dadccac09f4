import { fireEvent, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { jobFixture, stubApi } from "../test/knowledge-fixture";
import { renderWithClient } from "../test/render-with-client";
import { UploadZone } from "./upload-zone";

describe("UploadZone", () => {
  it("uploads the files dropped on it, several at once", async () => {
    const append = vi.spyOn(FormData.prototype, "append");
    const calls = stubApi({ "POST /api/knowledge/spaces/sp1/documents": () => jobFixture() });
    const onJob = vi.fn();
    renderWithClient(<UploadZone space="sp1" onJob={onJob} />);
    const zone = screen.getByRole("region", { name: "Drop files to upload" });
    const files = [new File(["a"], "a.md"), new File(["b"], "b.csv")];
    fireEvent.dragOver(zone, { dataTransfer: { files: [], dropEffect: "none" } });
    expect(zone).toHaveClass("upload-zone--over");
    fireEvent.drop(zone, { dataTransfer: { files } });
    expect(zone).not.toHaveClass("upload-zone--over");
    await vi.waitFor(() => expect(onJob).toHaveBeenCalledWith(jobFixture()));
    expect(calls).toHaveLength(1);
    expect(append.mock.calls.map((call) => call[2])).toEqual(["a.md", "b.csv"]);
  });

  it("takes nothing while a job runs", () => {
    const calls = stubApi({});
    renderWithClient(<UploadZone space="sp1" onJob={vi.fn()} busy />);
    fireEvent.drop(screen.getByRole("region", { name: "Drop files to upload" }), {
      dataTransfer: { files: [new File(["a"], "a.md")] },
    });
    expect(screen.getByLabelText("Choose files")).toBeDisabled();
    expect(calls).toHaveLength(0);
  });

  it("shows a refused upload (e.g. too large)", async () => {
    stubApi({
      "POST /api/knowledge/spaces/sp1/documents": () =>
        new Response(JSON.stringify({ detail: "big.pdf is over the 50 MB limit" }), {
          status: 413,
        }),
    });
    renderWithClient(<UploadZone space="sp1" onJob={vi.fn()} />);
    fireEvent.change(screen.getByLabelText("Choose files"), {
      target: { files: [new File(["x"], "big.pdf")] },
    });
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Uploading failed: big.pdf is over the 50 MB limit",
    );
  });
});
