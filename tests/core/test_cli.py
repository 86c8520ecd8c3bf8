"""The `telora` console script: help, exit codes, and one-line errors."""

import os
import subprocess
import sys

import pytest

from telora.cli import TELORA_COMMANDS

COMMANDS = list(TELORA_COMMANDS)  # every command the help lists


def telora(*args, env=None):
    return subprocess.run([sys.executable, "-m", "telora.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_help_lists_the_commands():
    result = telora("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command):
    result = telora(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_createuser_refuses_bad_arguments_with_one_line(db):
    result = telora("createuser", "someone", env={"DATABASE_URL": _database_url()})
    assert result.returncode != 0
    assert "give --superuser, or --brand and --role" in result.stderr


def test_check_passes():
    result = telora("check")
    assert result.returncode == 0, result.stderr


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    return f"postgresql://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
