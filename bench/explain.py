"""EXPLAIN (ANALYZE) summaries: which index (or sequential scan) a query used, and its time."""

import json
import re

from django.db import connection, transaction

# Tables large enough at bench size for a sequential scan to matter.
LARGE_TABLES = ("consents_consentstate", "consents_consentevent", "consents_datasubject")
SEQ_SCAN_WARNING = 10_000


def explain(sql: str, *, as_cursor: bool = False) -> dict:
    """The plan PostgreSQL ran. ``as_cursor``: planned as a server-side cursor, as .iterator()
    runs it (cursor_tuple_fraction makes such plans favour the first rows)."""
    if as_cursor:
        sql = "DECLARE bench_explain NO SCROLL CURSOR FOR " + sql
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return plan[0]


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _rows(node: dict) -> int:
    """Rows a node produced over all its loops (and parallel workers)."""
    return round(node.get("Actual Rows", 0) * node.get("Actual Loops", 1))


def plan_summary(plan: dict) -> str:
    """Scans in plan order, e.g. 'Seq Scan consents_datasubject (200,000 rows!) | Sort (top-N
    heapsort of 150,000 rows)'. '!' marks a large table read row by row; 'Idx' is an index
    scan, 'IOS' an index-only scan, 'Bitmap' a bitmap index scan, 'xN' its repetitions."""
    parts = []
    for node in _nodes(plan["Plan"]):
        kind = node["Node Type"]
        loops = node.get("Actual Loops", 1)
        table = node.get("Relation Name", "")
        if kind.endswith("Seq Scan"):
            read = _rows(node) + round(node.get("Rows Removed by Filter", 0) * loops)
            flag = "!" if read >= SEQ_SCAN_WARNING and table in LARGE_TABLES else ""
            parts.append(f"{kind} {table} ({read:,} rows{flag})")
        elif node.get("Index Name"):
            short = kind.replace("Bitmap Index Scan", "Bitmap").replace("Index Only Scan", "IOS")
            short = short.replace("Index Scan", "Idx")
            if node.get("Scan Direction") == "Backward":
                short += " backward"
            part = f"{short} {node['Index Name']}"
            if loops > 1:
                part += f" x{loops:,}"
            elif _rows(node) >= 1000:
                part += f" ({_rows(node):,} rows)"
            parts.append(part)
        elif kind in ("Sort", "Incremental Sort"):
            fed = sum(_rows(child) for child in node.get("Plans", []))
            parts.append(f"{kind} ({node.get('Sort Method', '')} of {fed:,} rows)")
    return " | ".join(dict.fromkeys(parts))


def _what(sql: str) -> str:
    table = re.search(r'FROM "?(\w+)"?', sql)
    name = table.group(1).removeprefix("consents_") if table else "?"
    if re.match(r"\s*SELECT\s+COUNT\(\*\)", sql, re.IGNORECASE) or "COUNT(*)" in sql[:200]:
        return f"count {name}"
    limit = re.search(r"LIMIT (\d+)(?: OFFSET (\d+))?", sql)
    return f"{name} LIMIT {limit.group(1)}" if limit else f"{name}"


def explain_rows(label: str, statements: list[str], *, as_cursor=False) -> list[list[str]]:
    """One row per SELECT that touched a large table: page, query, plan summary, time in ms."""
    rows = []
    for sql in statements:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        if not any(f'"{table}"' in sql for table in LARGE_TABLES):
            continue
        plan = explain(sql, as_cursor=as_cursor)
        rows.append([label, _what(sql), plan_summary(plan), f"{plan['Execution Time']:.1f}"])
    return rows
