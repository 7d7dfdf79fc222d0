"""Importing dossiers and responses from spreadsheets (CSV or XLSX) exported by other systems."""

from sipas.imports.dossier_import import import_dossiers
from sipas.imports.report import ImportFileError, ImportReport, RowError
from sipas.imports.response_import import import_responses

__all__ = ["ImportFileError", "ImportReport", "RowError", "import_dossiers", "import_responses"]
