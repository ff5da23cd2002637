"""The viewer's details-search window as it was before (audit/selectors.py at the merge of
the viewer), kept only so that bench/audit_viewer_bench.py can time the two in the same
run: the window's keys read from the index, then each key looked up again by id alone to
test its details (on the month-partitioned table, a look-up in every partition's primary
key). Not used by the product."""

from __future__ import annotations

from typing import Any


def legacy_read_window(window: Any, needle: str, size: int, *, newest_first: bool) -> tuple:
    from django.core.exceptions import EmptyResultSet
    from django.db import connection

    from audit.selectors import Cursor

    keys = window.values_list("created_at", "id")[:size]
    try:
        sql, params = keys.query.sql_with_params()
    except EmptyResultSet:
        return 0, None, []
    pattern = f"%{connection.ops.prep_for_like_query(needle)}%"
    last_first = "ASC" if newest_first else "DESC"
    query = (
        f"WITH w AS MATERIALIZED ({sql}) "  # noqa: S608 (Django's own SQL, with its params)
        "SELECT w.created_at, w.id, 1 FROM w JOIN audit_auditevent e ON e.id = w.id "
        "WHERE e.details::text ILIKE %s "
        f"UNION ALL (SELECT created_at, id, 2 FROM w ORDER BY created_at {last_first}, "
        f"id {last_first} LIMIT 1) "
        "UNION ALL SELECT NULL, count(*), 3 FROM w"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, pattern])
        rows = cursor.fetchall()
    count = next(int(pk) for _, pk, kind in rows if kind == 3)
    last = next((Cursor(at, pk) for at, pk, kind in rows if kind == 2), None)
    hits = sorted(
        (Cursor(at, pk) for at, pk, kind in rows if kind == 1),
        key=lambda c: (c.created_at, c.id),
        reverse=newest_first,
    )
    return count, last, hits
