import { EmptyState } from "../components/empty-state";
import { TemplateIcon } from "../components/icons";

export function TemplatesEmptyState() {
  return (
    <EmptyState icon={<TemplateIcon />} title="No templates installed">
      <p>
        Templates are ready-made flows (RAG question answering, text-to-SQL, chart reports) that you
        import from a file, a URL or a marketplace index.
      </p>
    </EmptyState>
  );
}
