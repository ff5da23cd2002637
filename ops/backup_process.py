"""The backup in a process of its own, without Django's apps loaded:

    python -m ops.backup_process [--kind daily|weekly|monthly]

What the beat task runs (ops/tasks.py): the worker stays as it was, and the backup's process
holds only settings, the database driver, the cipher and the store's client (about 60 MB at
its peak whatever the database's size, against about 130 MB for any ``manage.py`` command of
the portal, which loads every app; ``make bench-backup`` measures both). It dies with the
worker that started it. Prints the finished backup as one JSON line (with this process's
peak RSS); exit status 1 and the reason on stderr when it fails.

Nothing here may need Django's app registry: ops.backups and what it imports read settings
and talk to PostgreSQL and the stores directly.
"""

from __future__ import annotations

import argparse
import json
import logging.config
import os
import resource
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.backup_process")
    parser.add_argument("--kind", choices=("daily", "weekly", "monthly"), default="daily")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    from ops.backups import BackupError, take_backup

    try:
        manifest = take_backup(args.kind)
    except BackupError as error:
        print(f"Backup failed: {error}", file=sys.stderr)
        return 1
    peak = _peak_memory()
    finished = {"id": manifest.id, "kind": manifest.kind, "size": manifest.size, "peak_rss": peak}
    print(json.dumps(finished))
    return 0


def _peak_memory() -> int:
    """This process's peak resident memory in bytes: Linux's VmHWM (getrusage's ru_maxrss
    would keep, across exec, the memory of the worker this process was forked from)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


if __name__ == "__main__":
    sys.exit(main())
