from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MigrationConfig(AppConfig):
    """Moving a customer base in from another BSS (docs/migration.md). It sits above billing:
    it writes customers, inventory, rating balances and receivables in one import."""

    name = "telora.migration"
    label = "migration"
    verbose_name = _("Migration")

    def ready(self):
        from telora.core.rights import register_area

        register_area("migration", _("Migration"), icon="transfer-in", order=900, special=("import",), module=True)

        from telora.migration import jobs  # noqa: F401  (the job kind)
