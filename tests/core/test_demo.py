from telora.core.demo import DEMO_PASSWORD, load_demo
from telora.core.models import AuditEvent, Brand, User


def test_demo_loads_two_brands_and_is_idempotent(db):
    logins = load_demo()
    assert {b.code for b in Brand.objects.all()} == {"nordlink", "bluewave"}
    assert {login.username for login in logins} >= {"admin", "nordlink-admin", "bluewave-admin", "csr"}
    assert User.objects.get(username="admin").check_password(DEMO_PASSWORD)
    events = AuditEvent.objects.count()
    load_demo()
    assert AuditEvent.objects.count() == events  # nothing changed the second time
    assert Brand.objects.count() == 2
