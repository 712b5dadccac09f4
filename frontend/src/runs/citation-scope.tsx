import { createContext, type ReactNode, useContext, useMemo, useState } from "react";
import type { ChunkLike } from "../knowledge/chunk-meta";
import { chunksAmong } from "./citations";

/** The chunk last cited by a click; `seq` changes on every click, so a repeat click scrolls again. */
export interface Highlight {
  readonly id: string;
  readonly seq: number;
}

interface CitationContext {
  /** The chunks that answers shown in this scope may cite. */
  readonly chunks: readonly ChunkLike[];
  readonly highlighted: Highlight | null;
  readonly highlight: (id: string) => void;
}

const Context = createContext<CitationContext | null>(null);

/** The citation scope around the current output, or `null` outside one. */
export function useCitationScope(): CitationContext | null {
  return useContext(Context);
}

interface CitationScopeProps {
  /** Port values shown together (a node's outputs, a run's outputs): chunk lists among them are citable. */
  readonly values: readonly unknown[];
  readonly children: ReactNode;
}

/**
 * Groups outputs shown side by side so that an answer's `[chunk-id]` markers link to the passages
 * of a `List[Chunk]` value next to it (e.g. `rag.answer`'s `answer` and `citations` ports).
 */
export function CitationScope({ values, children }: CitationScopeProps) {
  const chunks = useMemo(() => chunksAmong(values), [values]);
  const [highlighted, setHighlighted] = useState<Highlight | null>(null);
  const value = useMemo(
    () => ({
      chunks,
      highlighted,
      highlight: (id: string) =>
        setHighlighted((current) => ({ id, seq: (current?.seq ?? 0) + 1 })),
    }),
    [chunks, highlighted],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}
