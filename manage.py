#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Schema changes run as the role that owns the tables; everything else, including the web
    # server and the seed command, runs as the app role that row-level security binds.
    # An agency's expunge deletes its audit events, which only the owner may (ops/expunge.py).
    if sys.argv[1:2] in (["migrate"], ["agency_expunge"]):
        os.environ.setdefault("PORTAL_DB_ROLE", "owner")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
