"""Read-only users of the development endpoint: ``readonly = 1`` forced, and only the tables on their
list (checked on ClickHouse's own parse of the query, ``EXPLAIN AST``; table functions refused)."""

from __future__ import annotations

from adpulse.devch.errors import BadRequest


def referenced(ast: str, database: str) -> tuple[set[str], set[str]]:
    """(tables, table functions) a query reads, from ``EXPLAIN AST`` output."""
    tables: set[str] = set()
    functions: set[str] = set()
    lines = [line.strip() for line in ast.splitlines()]
    for index, line in enumerate(lines[:-1]):
        if not line.startswith("TableExpression"):
            continue
        child = lines[index + 1].split()
        if child[0] == "TableIdentifier":
            name = child[1]
            tables.add(name if "." in name else f"{database}.{name}")
        elif child[0] == "Function":
            functions.add(child[1])
    return tables, functions


def check(ast: str, database: str, allowed: frozenset[str]) -> None:
    tables, functions = referenced(ast, database)
    if functions:
        raise BadRequest(
            f"Not enough privileges: table functions ({', '.join(sorted(functions))}) are not allowed", 497, 403
        )
    forbidden = sorted(tables - allowed)
    if forbidden:
        raise BadRequest(f"Not enough privileges: no SELECT grant on {', '.join(forbidden)}", 497, 403)
