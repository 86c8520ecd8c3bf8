"""The inventory's screens (namespace `inventory`)."""

app_name = "inventory"
urlpatterns: list = []
