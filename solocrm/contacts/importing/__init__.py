"""Import contacts, companies, orders and interactions from CSV, XLSX and vCard files.

    preview(kind, path) -> Preview            what the file is and how its columns map
    run_import(kind, path, ...) -> ImportReport
    jobs.run_job(job) / jobs.start_job(job)   the same for an uploaded contacts.ImportJob

See docs/import-formats.md for the formats, header synonyms, matching rules and limits."""

from .report import ImportFileError, ImportReport, Preview, RowError
from .runner import preview, run_import

__all__ = ["ImportFileError", "ImportReport", "Preview", "RowError", "preview", "run_import"]
