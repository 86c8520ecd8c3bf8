"""A provisioning worker for the kill test: sends one request and then hangs where it would record the
answer (the test SIGKILLs it there). Usage: kill_worker.py REQUEST_ID"""

import sys
import time

import django

django.setup()

from telora.core import clock  # noqa: E402
from telora.provisioning import services  # noqa: E402


def hang(*args, **kwargs):
    print("sent", flush=True)
    time.sleep(600)


services.record_outcome = hang
services.send_request(int(sys.argv[1]), at=clock.now())
