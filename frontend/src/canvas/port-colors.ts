import { safeParsePortType } from "./port-types";

/** One colour per base type of the vocabulary; wrappers (List, Optional, Stream) take their item's. */
const COLORS: Readonly<Record<string, string>> = {
  Any: "#a1a1aa",
  Text: "#0ea5e9",
  Int: "#f59e0b",
  Float: "#f97316",
  Bool: "#ef4444",
  Json: "#8b5cf6",
  Message: "#10b981",
  Messages: "#059669",
  Document: "#14b8a6",
  Chunk: "#0d9488",
  Embedding: "#ec4899",
  Table: "#6366f1",
  SQLQuery: "#0891b2",
  ChartSpec: "#d946ef",
  HttpRequest: "#64748b",
  HttpResponse: "#475569",
};

/** The colour of a port's handle, from its type text (`List[Chunk]` is Chunk's colour). */
export function portColor(typeText: string): string {
  let type = safeParsePortType(typeText);
  while (type.args.length && type.args[0]) type = type.args[0];
  return COLORS[type.name] ?? COLORS.Any ?? "#a1a1aa";
}

/** Streams are drawn as hollow handles. */
export function isStreamType(typeText: string): boolean {
  return safeParsePortType(typeText).name === "Stream";
}
