"""Invoice outputs made from the invoice *document* (a plain dict, see contract.py): HTML and PDF
(templating.py, pdf.py), CSV and JSON Lines (flat.py). Nothing here reads the database.

`pdf` loads WeasyPrint on first use; import it as `telora.billing.documents.pdf`.
"""

from telora.billing.documents.contract import DocumentError, check_document, file_name
from telora.billing.documents.flat import write_csv, write_json
from telora.billing.documents.templating import InvoiceTemplateError, render_html

__all__ = ["DocumentError", "InvoiceTemplateError", "check_document", "file_name", "render_html", "write_csv",
           "write_json"]
