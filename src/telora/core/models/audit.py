from django.db import models

from telora.core import rights


class AuditQuerySet(models.QuerySet):
    def for_user(self, principal, action: str = "view"):
        """Events of the brands where the principal holds audit.<action>.

        Events about users carry no brand (a user may be in several); they are visible where
        the user holds a role in one of those brands.
        """
        brand_ids = rights.brands_with(principal, f"audit.{action}")
        if brand_ids is rights.ALL:
            return self.all()
        from django.db.models.functions import Cast

        from telora.core.models.users import BrandGrant

        user_ids = BrandGrant.objects.filter(brand_id__in=brand_ids).annotate(
            text_id=Cast("user_id", models.CharField())
        ).values("text_id")
        return self.filter(
            models.Q(brand_id__in=brand_ids)
            | models.Q(brand__isnull=True, object_type="core.user", object_id__in=user_ids)
        )

    def for_object(self, obj):
        return self.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))


class AuditEvent(models.Model):
    """One write made through a service: who, when, what, and the old and new values."""

    at = models.DateTimeField(db_index=True)
    actor_user = models.ForeignKey("core.User", on_delete=models.SET_NULL, null=True, related_name="+")
    actor_api_key = models.ForeignKey("core.ApiKey", on_delete=models.SET_NULL, null=True, related_name="+")
    actor_label = models.CharField(max_length=200)  # kept when the user or key is deleted
    brand = models.ForeignKey("core.Brand", on_delete=models.SET_NULL, null=True, related_name="+")
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    action = models.CharField(max_length=40)
    changes = models.JSONField(default=dict)  # {"field": [old, new]}
    message = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()
    rights_area = "audit"

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-at"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"
