from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "telora.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from telora.core.rights import register_area

        register_area("billing", _("Billing"), url_name="billing:run_list", icon="receipt", order=350,
                      special=("approve", "adjust", "adjust_large"), module=True)

        from telora.billing import jobs  # noqa: F401  (the job kind)
        from telora.billing.services import pdfs  # noqa: F401  (the PDF job kind)
        from telora.billing.services.marks import billed_check
        from telora.rating.services.rerate import register_billed_check

        register_billed_check(billed_check)

        from telora.billing.services.renewals import retry_after_topup
        from telora.rating.services.balances import register_topup_hook

        register_topup_hook(retry_after_topup)

        from telora.billing import demo

        demo.register()
