"""The engine is pure: importing it pulls in no Django and nothing from the database side."""

import json
import subprocess
import sys


def test_the_engine_imports_only_the_standard_library_and_the_tariff_rules():
    code = ("import json, sys, telora.rating.engine; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('django', 'telora', 'psycopg', 'pycrate')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out)
    assert not [m for m in loaded if m.startswith(("django", "psycopg", "pycrate"))]
    assert {m for m in loaded if m.startswith("telora.")} <= {
        "telora", "telora.rating", "telora.billperiods"} | {
        m for m in loaded if m.startswith("telora.rating.engine")}
