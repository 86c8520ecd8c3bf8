"""Where an object's page is, by its audit `object_type` ("core.user" -> "ui:user_detail").

The audit list links each event to the object it touched. Apps register their detail pages
in `AppConfig.ready()` with `register_object_page("customers.customer", "ui:customer_detail")`.
The page itself still decides whether the reader may open it.
"""

from django.urls import NoReverseMatch, reverse

_PAGES: dict[str, str] = {}


def register_object_page(object_type: str, url_name: str) -> None:
    _PAGES[object_type] = url_name


def object_url(object_type: str, object_id) -> str | None:
    url_name = _PAGES.get(object_type)
    if url_name is None:
        return None
    try:
        return reverse(url_name, args=[object_id])
    except NoReverseMatch:
        return None


def register_core_links() -> None:
    register_object_page("core.user", "ui:user_detail")
    register_object_page("core.role", "ui:role_detail")
    register_object_page("core.brand", "ui:brand_detail")
    register_object_page("core.job", "ui:job_detail")
