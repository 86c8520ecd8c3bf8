"""The letters module's screens (namespace `letters`)."""



app_name = "letters"
urlpatterns = []
