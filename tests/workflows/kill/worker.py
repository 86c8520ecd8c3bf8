"""The worker process of the SIGKILL test: starts the kill flow in brand argv[1] (then dies, killed)."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telora.settings")

import django  # noqa: E402

django.setup()

import kill_tasks  # noqa: E402,F401

from telora.core import clock  # noqa: E402
from telora.core.models import Brand  # noqa: E402
from telora.core.services import Actor  # noqa: E402
from telora.workflows.services import start_instance  # noqa: E402

start_instance("kill_flow", brand=Brand.objects.get(code=sys.argv[1]), data={}, subject_type="tests.kill",
               subject_id="K-1", actor=Actor.system("kill-worker"), at=clock.now())
