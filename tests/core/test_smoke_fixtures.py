from telora.core import rights
from telora.core.models import User


def test_user_with_grant_has_permission(make_user, brand_a, brand_b):
    ann = make_user("ann", {brand_a: ["users.view"]})
    assert rights.has_perm(ann, brand_a, "users.view")
    assert not rights.has_perm(ann, brand_b, "users.view")
    assert list(User.objects.for_user(ann)) == [ann]
