"""The catalogue's screens (namespace `catalog`): one list, page, form and close view per
section (`<name>_list`, `<name>_create`, `<name>_detail`, `<name>_edit`, `<name>_close`), dated
rates and prices, and config as code."""

from django.urls import path

from telora.catalog.views import code, entities, home, pricing
from telora.catalog.views.sections import SECTION_LIST

app_name = "catalog"
urlpatterns = [
    path("", home.CatalogHomeView.as_view(), name="home"),
    path("config/", code.ConfigView.as_view(), name="config"),
    path("config/export/", code.ExportView.as_view(), name="export"),
    path("rate-plans/<int:pk>/rates/", pricing.RateFormView.as_view(), name="rate_form"),
    path("rate-plans/<int:pk>/rates/end/", pricing.RateEndView.as_view(), name="rate_end"),
    path("products/<int:pk>/price/", pricing.PriceChangeView.as_view(), name="price_change"),
    path("customer-groups/<int:pk>/overrides/", pricing.RateOverrideFormView.as_view(), name="rate_override_form"),
    path("customer-groups/<int:pk>/overrides/end/", pricing.RateOverrideEndView.as_view(), name="rate_override_end"),
]
for _section in SECTION_LIST:
    urlpatterns += [
        path(f"{_section.slug}/", entities.EntityListView.as_view(section=_section), name=f"{_section.name}_list"),
        path(f"{_section.slug}/new/", entities.EntityCreateView.as_view(section=_section),
             name=f"{_section.name}_create"),
        path(f"{_section.slug}/<int:pk>/", entities.EntityDetailView.as_view(section=_section),
             name=f"{_section.name}_detail"),
        path(f"{_section.slug}/<int:pk>/edit/", entities.EntityEditView.as_view(section=_section),
             name=f"{_section.name}_edit"),
        path(f"{_section.slug}/<int:pk>/close/", entities.EntityCloseView.as_view(section=_section),
             name=f"{_section.name}_close"),
    ]
