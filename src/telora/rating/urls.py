"""Rating's screens (namespace `rating`)."""

app_name = "rating"
urlpatterns: list = []
