import { PageHeader } from "../components/page-header";
import { TemplateGallery } from "../templates/template-gallery";
import { TemplateSources } from "../templates/template-sources";

export function TemplatesPage() {
  return (
    <div className="page">
      <PageHeader
        title="Templates"
        description="Start a flow from a packaged, versioned example."
      />
      <TemplateGallery />
      <TemplateSources />
    </div>
  );
}
