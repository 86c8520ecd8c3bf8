"""Core's menu areas. Domain apps register theirs in their own AppConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from telora.core.rights import register_area

register_area("users", _("Users"), url_name="ui:user_list", icon="users", order=900, special=("grant",))
register_area("audit", _("Audit"), url_name="ui:audit_list", icon="history", order=950)
register_area("jobs", _("Jobs"), url_name="ui:job_list", icon="clock-play", order=960, special=("run",))
register_area("brands", _("Brands"), url_name="ui:brand_list", icon="building-store", order=990, admin_only=True)
