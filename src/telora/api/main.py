from ninja import NinjaAPI

api = NinjaAPI(title="Telora API", version="1", urls_namespace="api")
