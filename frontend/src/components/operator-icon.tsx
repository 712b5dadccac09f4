import {
  ArrowDownWideNarrow,
  BarChart,
  Bot,
  Box,
  Braces,
  Clock,
  Combine,
  Database,
  DatabaseZap,
  FileText,
  GitBranch,
  GitMerge,
  Globe,
  Hash,
  History,
  Languages,
  LayoutDashboard,
  Library,
  Link,
  ListCollapse,
  ListTree,
  LogIn,
  LogOut,
  type LucideIcon,
  Map as MapGlyph,
  MessageCircle,
  MessageSquareQuote,
  Network,
  Pin,
  Play,
  Plug,
  Repeat,
  Scissors,
  Search,
  ShieldCheck,
  Sparkles,
  Table,
  Table2,
  TextQuote,
  Timer,
  Waves,
  Waypoints,
  Zap,
} from "lucide-react";

/**
 * The editor's icon set: the Lucide names an operator (`OperatorSpec.icon`) or a category may use.
 * Imported one by one so the bundle carries only these.
 */
export const ICONS: Readonly<Record<string, LucideIcon>> = {
  "arrow-down-wide-narrow": ArrowDownWideNarrow,
  "bar-chart": BarChart,
  bot: Bot,
  box: Box,
  braces: Braces,
  clock: Clock,
  combine: Combine,
  database: Database,
  "database-zap": DatabaseZap,
  "file-text": FileText,
  "git-branch": GitBranch,
  "git-merge": GitMerge,
  globe: Globe,
  hash: Hash,
  history: History,
  languages: Languages,
  "layout-dashboard": LayoutDashboard,
  library: Library,
  link: Link,
  "list-collapse": ListCollapse,
  "list-tree": ListTree,
  "log-in": LogIn,
  "log-out": LogOut,
  "message-circle": MessageCircle,
  "message-square-quote": MessageSquareQuote,
  network: Network,
  pin: Pin,
  play: Play,
  plug: Plug,
  repeat: Repeat,
  scissors: Scissors,
  search: Search,
  "shield-check": ShieldCheck,
  sparkles: Sparkles,
  table: Table,
  "table-2": Table2,
  "text-quote": TextQuote,
  timer: Timer,
  waves: Waves,
  waypoints: Waypoints,
  zap: Zap,
};

/** The built-in categories' icons, for a catalog that does not name one. */
const CATEGORY_ICONS: Readonly<Record<string, string>> = {
  core: "box",
  llm: "sparkles",
  rag: "library",
  sql: "database",
  chart: "bar-chart",
  agent: "bot",
  trigger: "zap",
  io: "plug",
};

/**
 * The icon name to draw: the operator's own when the set has it (`box` is the SDK's default, so it
 * falls through), else its category's (the catalog's `icon`, then the built-in one), else `box`.
 */
export function resolveIcon(
  operatorIcon: string | null | undefined,
  category: string | null | undefined,
  categoryIcon?: string | null,
): string {
  if (operatorIcon && operatorIcon !== "box" && operatorIcon in ICONS) return operatorIcon;
  if (categoryIcon && categoryIcon in ICONS) return categoryIcon;
  const builtIn = category ? CATEGORY_ICONS[category] : undefined;
  return builtIn ?? "box";
}

/** One icon of the set by name (`box` for an unknown one), drawn in `currentColor`. */
export function NamedIcon({
  name,
  size = 16,
  className,
}: {
  readonly name: string;
  readonly size?: number;
  readonly className?: string;
}) {
  const Glyph = ICONS[name] ?? Box;
  return (
    <Glyph
      size={size}
      strokeWidth={1.9}
      className={className}
      aria-hidden="true"
      focusable="false"
      data-icon={ICONS[name] ? name : "box"}
    />
  );
}

/** The minimap toggle's glyph. */
export function MapIcon() {
  return <MapGlyph size={14} strokeWidth={2} aria-hidden="true" focusable="false" />;
}
