import { PageHeader } from "../components/page-header";
import { TemplateGallery } from "../templates/template-gallery";

export function TemplatesPage() {
  return (
    <div className="page">
      <PageHeader
        title="Templates"
        description="Start a flow from a packaged, versioned example."
      />
      <TemplateGallery />
    </div>
  );
}
