import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { OutputView } from "../editor/output-view";
import { CitationScope } from "./citation-scope";

const citations = [
  {
    id: "3f2a",
    document_id: "d1",
    text: "To reset your password, open Settings and choose Reset.",
    source: "handbook.pdf",
    score: 0.82,
    metadata: {
      document: "handbook.pdf",
      page: 12,
      heading_path: ["Accounts", "Passwords"],
      retrievers: { vector: { rank: 1, score: 0.82 }, keyword: { rank: 3, score: 0.2 } },
    },
  },
  {
    id: "9b1c",
    document_id: "d2",
    text: "The VPN needs a hardware token.",
    source: "https://intranet.example/vpn",
    metadata: {},
  },
];

function renderAnswer(answer: string) {
  const values = { answer, citations };
  return render(
    <CitationScope values={Object.values(values)}>
      <OutputView value={answer} type="Text" />
      <OutputView value={citations} type="List[Chunk]" />
    </CitationScope>,
  );
}

describe("citations in run outputs", () => {
  it("lists each chunk with its source, page, heading path and passage, expandable", () => {
    render(<OutputView value={citations} type="List[Chunk]" />);
    const items = screen.getAllByTestId("citation");
    expect(items).toHaveLength(2);
    const first = items[0] as HTMLDetailsElement;
    expect(first).toHaveTextContent("[1]handbook.pdfp. 12 · Accounts › Passwordsscore 0.820");
    expect(first.open).toBe(false);
    fireEvent.click(within(first).getByText("handbook.pdf"));
    expect(first.open).toBe(true);
    expect(within(first).getByText(/To reset your password/)).toBeVisible();
    expect(within(first).getByText("3f2a")).toBeInTheDocument();
    const badges = within(first).getByRole("list", { name: "Found by" });
    expect(badges).toHaveTextContent("vector#10.820keyword#30.200");
    expect(items[1]).toHaveTextContent("https://intranet.example/vpn");
  });

  it("links an answer's [chunk-id] markers to the passages they cite", () => {
    renderAnswer("Open Settings and choose Reset [3f2a]. A token is needed [9b1c].");
    const answer = screen.getByTestId("cited-answer");
    expect(answer).toHaveTextContent("Open Settings and choose Reset [1]. A token is needed [2].");
    const link = within(answer).getByRole("link", { name: "Citation 1: handbook.pdf" });
    const [first, second] = screen.getAllByTestId("citation") as HTMLDetailsElement[];
    expect(first?.open).toBe(false);
    fireEvent.click(link);
    expect(first?.open).toBe(true);
    expect(first).toHaveClass("citation--highlighted");
    expect(second).not.toHaveClass("citation--highlighted");
    fireEvent.click(within(answer).getByRole("link", { name: /Citation 2/ }));
    expect(second).toHaveClass("citation--highlighted");
    expect(first).not.toHaveClass("citation--highlighted");
  });

  it("shows text without citable markers as plain text", () => {
    renderAnswer("No markers here, only [brackets].");
    expect(screen.queryByTestId("cited-answer")).toBeNull();
    expect(screen.getByTestId("output-json")).toHaveTextContent(
      "No markers here, only [brackets].",
    );
  });

  it("says when the answer cited nothing and these are the passages it was given", () => {
    const given = citations.map((chunk, index) => ({
      ...chunk,
      metadata: { ...chunk.metadata, cited: false, passage: index + 1 },
    }));
    const { rerender } = render(<OutputView value={given} type="List[Chunk]" />);
    expect(screen.getByText(/The answer cites none of these/)).toBeInTheDocument();
    rerender(<OutputView value={citations} type="List[Chunk]" />);
    expect(screen.queryByText(/The answer cites none of these/)).toBeNull();
  });

  it("notes a truncated preview", () => {
    const cut = `${JSON.stringify(citations).slice(0, 420)}…`;
    render(<OutputView value={cut} type="" />);
    expect(screen.getAllByTestId("citation")).toHaveLength(1);
    expect(screen.getByText("More passages were cut from this preview.")).toBeInTheDocument();
  });
});
