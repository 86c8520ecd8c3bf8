"""Platform foundation: sequence allocation under concurrency, audited writes, rights-filtered reads."""

from __future__ import annotations

import threading

from run import Timer


def run(report) -> None:
    from django.db import connection, transaction

    from telora.core import clock, rights
    from telora.core.models import AuditEvent, User
    from telora.core.services import Actor
    from telora.core.services.brands import create_brand
    from telora.core.services.sequences import next_number
    from telora.core.services.users import create_role, create_user, update_user

    system = Actor.system("bench")
    brands = [create_brand(actor=system, at=clock.now(), code=f"b{i}", name=f"Brand {i}", currency="EUR",
                           timezone="Europe/Amsterdam", country="NL") for i in range(10)]

    # Gap-free numbers: two threads (two cores) allocating in their own transactions.
    per_thread, threads = 5000, 2

    def allocate():
        for _ in range(per_thread):
            with transaction.atomic():
                next_number(brands[0], "customer", at=clock.now())
        connection.close()

    with Timer() as t:
        pool = [threading.Thread(target=allocate) for _ in range(threads)]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
    report.figure("sequence numbers allocated (2 threads)", per_thread * threads / t.seconds, "numbers/s",
                  f"{per_thread * threads:,} numbers, one brand")

    # Users with roles across brands, then audited updates through the service.
    role = {b.pk: create_role(actor=system, at=clock.now(), name=f"viewer-{b.code}", brand=b,
                              permissions=["users.view", "audit.view"]) for b in brands}
    users_n = 2000
    with Timer() as t:
        users = [create_user(actor=system, at=clock.now(), username=f"user{i:05d}", password=None,
                             grants=[(brands[i % 10], role[brands[i % 10].pk])]) for i in range(users_n)]
    report.figure("users created through the service (audited)", users_n / t.seconds, "users/s",
                  f"{users_n:,} users, 10 brands")
    with Timer() as t:
        for user in users:
            update_user(user, actor=system, at=clock.now(), email=f"{user.username}@bench.test")
    report.figure("audited updates", users_n / t.seconds, "updates/s", f"{users_n:,} updates")

    viewer = users[0]
    timings = []
    for _ in range(500):
        rights.forget(viewer)
        with Timer() as t:
            list(User.objects.for_user(viewer).order_by("username")[:50])
        timings.append(t.seconds)
    report.latencies("users list for a brand user (first page)", timings, f"{users_n:,} users")
    timings = []
    for _ in range(500):
        with Timer() as t:
            list(AuditEvent.objects.for_user(viewer)[:50])
        timings.append(t.seconds)
    report.latencies("audit list for a brand user (first page)", timings,
                     f"{AuditEvent.objects.count():,} events")
