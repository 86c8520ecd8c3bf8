"""Writes of the migration import (docs/migration.md): run_import checks and imports a set of files."""

from telora.migration.services.runner import Report, run_import
from telora.migration.services.runs import start_migration

__all__ = ["Report", "run_import", "start_migration"]
