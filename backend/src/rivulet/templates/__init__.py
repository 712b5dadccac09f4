"""Template packages, marketplace indexes, the importer (Rivulet packages and DB-GPT flows) and export.

Key contracts: ``TemplateManifest`` (``manifest.json``), ``MarketplaceIndex`` (``index.json``),
``import_package`` (validate everything, run nothing, write all or nothing) and ``convert_dbgpt_flow``.
"""

from rivulet.templates.dbgpt import DbgptImport, convert_dbgpt_flow
from rivulet.templates.importer import ImportReport, TemplateImportError, import_package, prepare_flows
from rivulet.templates.index import MarketplaceIndex, TemplateCatalog, TemplateListing
from rivulet.templates.package import TemplateManifest, TemplatePackage, load_package, package_archive

__all__ = (
    "DbgptImport",
    "ImportReport",
    "MarketplaceIndex",
    "TemplateCatalog",
    "TemplateImportError",
    "TemplateListing",
    "TemplateManifest",
    "TemplatePackage",
    "convert_dbgpt_flow",
    "import_package",
    "load_package",
    "package_archive",
    "prepare_flows",
)
