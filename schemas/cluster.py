"""Cluster DDL: every migration's single-node statements, rewritten for a replicated, sharded cluster.

``adpulse migrate --cluster NAME`` runs each statement through :meth:`ClusterDDL.transform`. Nothing
here repeats the schema: the rewrite is generic. Each statement is first normalised by ClickHouse's own
parser (``formatQuery``), whose canonical layout puts every clause of a CREATE on its own line at
column 0 (string literals never span lines), so the rewrite edits whole clauses, and every statement it
produces is parsed again before it is returned.

Placement, decided once from every migration's statements (so a later ALTER knows where its table is):

- *sharded*: a table with a ``click_id``, ``event_id`` or ``conversion_key`` column, a ``Null`` table, and
  every table a materialized view connects to one of those. It becomes ``<name>_local`` (the Replicated
  engine, ``{shard}`` in its Keeper path) on every node, plus ``<name>``, a Distributed table over it
  with :func:`sharding_key`, so the application's table names do not change.
- *everywhere*: any other table (cost imports, reference data, ``schema_migrations``): one Replicated
  table whose Keeper path has no ``{shard}``, so every node of every shard holds all of it and reads it
  locally (no double-distributed subqueries, ``FINAL`` sees every version).

Materialized views are attached to the local tables (they fire on the shard that took the insert);
plain views keep reading the Distributed names, and their ``IN`` subqueries over sharded tables
become ``GLOBAL IN`` (computed once, sent to every shard).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from clickhouse_connect.driver.exceptions import DatabaseError

from schemas.options import SchemaOptions

REPLICA_PATH = "/clickhouse/tables/{shard}/{database}/{table}"
EVERYWHERE_PATH = "/clickhouse/tables/all/{database}/{table}"
LOCAL_SUFFIX = "_local"
# A click and its conversions share the first of these that is set (conversions carry their click_id).
KEY_COLUMNS = ("click_id", "conversion_key", "event_id")
# ALTER commands a Distributed table takes as well (its columns mirror the local table's).
_COLUMN_COMMAND = re.compile(r"^\((ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN\b")
_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_NAME = r"`?(\w+)`?\.`?(\w+)`?"
_CREATE_TABLE = re.compile(rf"^CREATE TABLE (IF NOT EXISTS )?{_NAME}$")
_CREATE_MV = re.compile(rf"^CREATE MATERIALIZED VIEW (IF NOT EXISTS )?{_NAME}( TO {_NAME})?$")
_CREATE_VIEW = re.compile(rf"^CREATE (OR REPLACE )?VIEW (IF NOT EXISTS )?{_NAME}$")
_CREATE_DICTIONARY = re.compile(rf"^CREATE (OR REPLACE )?DICTIONARY (IF NOT EXISTS )?{_NAME}$")
_CREATE_DATABASE = re.compile(r"^CREATE DATABASE (IF NOT EXISTS )?`?(\w+)`?$")
_ALTER = re.compile(rf"^ALTER TABLE {_NAME}$")
_DROP = re.compile(rf"^DROP (TABLE|VIEW|DICTIONARY) (IF EXISTS )?{_NAME}( SYNC)?$")
_TRUNCATE = re.compile(rf"^TRUNCATE TABLE (IF EXISTS )?{_NAME}$")
_ENGINE = re.compile(r"^ENGINE = `?(\w+)`?(?:\((.*)\))?$")
_COLUMN = re.compile(r"^    `(\w+)` ")  # canonical column declarations are back-quoted
_SUBQUERY_IN = re.compile(r"(?<!GLOBAL )\b((?:NOT )?IN) \(\n")
# A join in canonical layout: its own line, the right side on it or in the parenthesised block below.
_JOIN = re.compile(r"^ *(?!GLOBAL |ARRAY |LEFT ARRAY )((?:[A-Z]+ )*JOIN)(?: (.*))?$", re.M)


class ClusterError(ValueError):
    """A statement the cluster rewrite cannot place; the message names it."""


class ClickHouseParser:
    """ClickHouse's own parser, through any clickhouse-connect client (the embedded engine needs no server)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._formatted: dict[str, str] = {}  # each statement is read twice: placement, then rewrite

    def format(self, sql: str) -> str:
        if sql not in self._formatted:
            try:
                result = self._client.query("SELECT formatQuery({q:String})", parameters={"q": sql})
            except DatabaseError as exc:  # a syntax error, reported with the statement
                raise ClusterError(f"ClickHouse cannot parse {_first_line(sql)!r}: {exc}") from exc
            self._formatted[sql] = str(result.result_rows[0][0])
        return self._formatted[sql]


@dataclass
class _Table:
    columns: list[str]
    engine: str
    sharded: bool = False
    neighbours: set[str] = field(default_factory=set)  # tables a materialized view links it to


def _first_line(sql: str) -> str:
    return sql.strip().splitlines()[0] if sql.strip() else ""


def sharding_key(columns: Sequence[str]) -> str:
    """The Distributed sharding expression for a table with ``columns``: the click id when set, else the
    conversion's identity (every version of one conversion on one shard), else the event id. A table
    with none of them (a rollup written by a view on each shard) is only read through its Distributed
    table, so any key will do."""
    cases: list[tuple[str, str]] = []
    if "click_id" in columns:
        cases.append(("click_id != ''", "click_id"))
    if "conversion_key" in columns and "network" in columns:
        cases.append(("conversion_key != ''", "concat(network, ':', conversion_key)"))
    if "event_id" in columns:
        cases.append(("", "toString(event_id)"))
    if not cases:
        return "rand()"
    if len(cases) == 1:
        return f"cityHash64({cases[0][1]})"
    arms = ", ".join(f"{cond}, {value}" for cond, value in cases[:-1])
    return f"cityHash64(multiIf({arms}, {cases[-1][1]}))"


class ClusterDDL:
    """Rewrites single-node statements for cluster ``cluster``; ``history`` is every statement every
    migration produces, in order (placement depends on all of them, not only on those still to run)."""

    def __init__(self, db: str, cluster: str, parser: ClickHouseParser, history: Iterable[str]) -> None:
        if not _CLUSTER_NAME.match(cluster):
            raise ClusterError(f"cluster name must be letters, digits, '_', '.', '-', got {cluster!r}")
        self._db = db
        self._cluster = cluster
        self._on = f" ON CLUSTER '{cluster}'"
        self._parser = parser
        self._tables: dict[str, _Table] = {}
        for statement in history:
            self._scan(statement)
        self._place()

    # -- placement -----------------------------------------------------------------------------------
    def _scan(self, statement: str) -> None:
        if _is_insert(statement):
            return
        lines = self._parser.format(statement).split("\n")
        if match := _CREATE_TABLE.match(lines[0]):
            engine = next((m for line in lines if (m := _ENGINE.match(line))), None)
            columns = [m.group(1) for line in lines if (m := _COLUMN.match(line))]
            self._tables.setdefault(match.group(3), _Table(columns, engine.group(1) if engine else ""))
        elif (match := _CREATE_MV.match(lines[0])) and match.group(4):
            target, source = match.group(6), self._trigger("\n".join(lines[1:]))
            if source in self._tables and target in self._tables:
                self._tables[source].neighbours.add(target)
                self._tables[target].neighbours.add(source)
        elif (match := _ALTER.match(lines[0])) and match.group(2) in self._tables:
            added = re.findall(r"^    \(ADD COLUMN (?:IF NOT EXISTS )?`?(\w+)`?", "\n".join(lines), re.M)
            self._tables[match.group(2)].columns.extend(added)

    def _place(self) -> None:
        pending = [
            name
            for name, table in self._tables.items()
            if table.engine == "Null" or any(c in table.columns for c in KEY_COLUMNS)
        ]
        while pending:
            name = pending.pop()
            table = self._tables.get(name)
            if table is None or table.sharded:
                continue
            table.sharded = True
            pending.extend(table.neighbours)

    def sharded(self, name: str) -> bool:
        table = self._tables.get(name)
        return table is not None and table.sharded

    def _references(self, sql: str) -> set[str]:
        """Names of this database's tables that ``sql`` (canonical text) mentions, outside string literals."""
        names = set()
        for match in re.finditer(rf"'(?:[^'\\]|\\.)*'|\b`?{self._db}`?\.`?(\w+)`?", sql):
            if match.group(1):
                names.add(match.group(1))
        return names

    def _trigger(self, select: str) -> str | None:
        """The table whose inserts fire a materialized view: its query's top-level FROM (column 0 in
        canonical layout), not tables it joins or reads in subqueries (those keep their placement)."""
        found = re.search(rf"^FROM `?{self._db}`?\.`?(\w+)`?", select, re.M)
        if found is None:  # FROM a subquery: the first table it reads
            found = re.search(rf"\bFROM `?{self._db}`?\.`?(\w+)`?", select)
        return found.group(1) if found else None

    def _to_local(self, sql: str) -> str:
        def swap(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None or not self.sharded(name):
                return match.group(0)
            return f"{self._db}.{name}{LOCAL_SUFFIX}"

        return re.sub(rf"'(?:[^'\\]|\\.)*'|\b`?{self._db}`?\.`?(\w+)`?\b", swap, sql)

    # -- the rewrite ---------------------------------------------------------------------------------
    def transform(self, statement: str) -> list[str]:
        """The statements that replace ``statement`` on the cluster, each checked by the parser."""
        if _is_insert(statement):
            return [statement]  # data: written once, through the Distributed (or everywhere) table
        lines = self._parser.format(statement).split("\n")
        head, rest = lines[0], lines[1:]
        if match := _CREATE_TABLE.match(head):
            out = self._create_table(match, rest)
        elif match := _CREATE_MV.match(head):
            out = [self._create_mv(match, rest)]
        elif match := _CREATE_VIEW.match(head):
            out = [self._global_in("\n".join([head + self._on, *rest]))]
        elif _CREATE_DICTIONARY.match(head) or _CREATE_DATABASE.match(head):
            out = ["\n".join([head + self._on, *rest])]
        elif match := _ALTER.match(head):
            out = self._alter(match, rest)
        elif match := _DROP.match(head):
            out = self._drop(match)
        elif match := _TRUNCATE.match(head):
            if_exists, name = match.group(1) or "", match.group(3)
            local = name + LOCAL_SUFFIX if self.sharded(name) else name  # the data is in the local tables
            out = [f"TRUNCATE TABLE {if_exists}{self._db}.{local}{self._on}"]
        else:
            raise ClusterError(f"no cluster form for {_first_line(statement)!r}")
        return [self._parser.format(sql) for sql in out]

    def _create_table(self, match: re.Match[str], rest: list[str]) -> list[str]:
        if_not_exists, name = match.group(1) or "", match.group(3)
        table = self._tables.get(name)
        if table is None:
            raise ClusterError(f"table {name} was not seen in the migrations' history")
        body = []
        for line in rest:
            if engine := _ENGINE.match(line):
                line = self._engine(name, engine.group(1), engine.group(2), table.sharded)
            elif line.startswith("SETTINGS "):
                line = re.sub(r"\bnon_replicated_deduplication_window\b", "replicated_deduplication_window", line)
            body.append(line)
        if not table.sharded:
            return ["\n".join([f"CREATE TABLE {if_not_exists}{self._db}.{name}{self._on}", *body])]
        local = f"{name}{LOCAL_SUFFIX}"
        distributed = (
            f"CREATE TABLE {if_not_exists}{self._db}.{name}{self._on} AS {self._db}.{local}\n"
            f"ENGINE = Distributed('{self._cluster}', '{self._db}', '{local}', {sharding_key(table.columns)})"
        )
        return ["\n".join([f"CREATE TABLE {if_not_exists}{self._db}.{local}{self._on}", *body]), distributed]

    def _engine(self, table: str, engine: str, args: str | None, sharded: bool) -> str:
        if engine == "Null":
            return "ENGINE = Null"
        if not engine.endswith("MergeTree") or engine.startswith(("Replicated", "Shared")):
            raise ClusterError(f"table {table}: engine {engine} has no replicated form (use a MergeTree engine)")
        path = REPLICA_PATH if sharded else EVERYWHERE_PATH
        extra = f", {args}" if args else ""
        return f"ENGINE = Replicated{engine}('{path}', '{{replica}}'{extra})"

    def _create_mv(self, match: re.Match[str], rest: list[str]) -> str:
        if not match.group(4):
            raise ClusterError(f"materialized view {match.group(3)} needs TO <table> on a cluster")
        if_not_exists, name, target = match.group(1) or "", match.group(3), match.group(6)
        if self.sharded(target):
            target += LOCAL_SUFFIX
        head = f"CREATE MATERIALIZED VIEW {if_not_exists}{self._db}.{name}{self._on} TO {self._db}.{target}"
        return "\n".join([head, self._to_local("\n".join(rest))])

    def _global_in(self, sql: str) -> str:
        """``IN (subquery)`` and ``JOIN`` over a sharded table -> ``GLOBAL``: ClickHouse refuses a subquery
        over a Distributed table inside a distributed query (distributed_product_mode = 'deny')."""
        starts = []
        for match in _SUBQUERY_IN.finditer(sql):
            end = _closing_paren(sql, match.end() - 2)
            if any(self.sharded(name) for name in self._references(sql[match.end() : end])):
                starts.append(match.start())
        for match in _JOIN.finditer(sql):
            right = match.group(2)
            if not right:  # JOIN on its own line: a subquery follows
                end = _closing_paren(sql, sql.index("(", match.end()))
                right = sql[match.end() : end]
            if any(self.sharded(name) for name in self._references(right)):
                starts.append(match.start(1))
        out, pos = [], 0
        for start in sorted(starts):
            out.append(sql[pos:start] + "GLOBAL ")
            pos = start
        return "".join([*out, sql[pos:]])

    def _alter(self, match: re.Match[str], rest: list[str]) -> list[str]:
        name = match.group(2)
        table = self._tables.get(name)
        if table is None:
            raise ClusterError(f"ALTER of {name}, a table the migrations do not create")
        commands: list[list[str]] = []
        for line in rest:
            if line.startswith("    ("):
                commands.append([])
            commands[-1].append(line)
        texts = ["\n".join(c).rstrip(",") for c in commands]
        if not table.sharded:
            return [f"ALTER TABLE {self._db}.{name}{self._on}\n" + ",\n".join(texts)]
        out = [f"ALTER TABLE {self._db}.{name}{LOCAL_SUFFIX}{self._on}\n" + ",\n".join(texts)]
        columns = [t for t in texts if _COLUMN_COMMAND.match(t.strip())]
        if columns:
            out.append(f"ALTER TABLE {self._db}.{name}{self._on}\n" + ",\n".join(columns))
        return out

    def _drop(self, match: re.Match[str]) -> list[str]:
        kind, if_exists, name, sync = match.group(1), match.group(2) or "", match.group(4), match.group(5) or ""
        out = [f"DROP {kind} {if_exists}{self._db}.{name}{self._on}{sync}"]
        if kind == "TABLE" and self.sharded(name):
            out.append(f"DROP TABLE {if_exists}{self._db}.{name}{LOCAL_SUFFIX}{self._on}{sync}")
        return out


def _is_insert(statement: str) -> bool:
    # formatQuery drops inline VALUES data, so INSERTs are passed through verbatim.
    return statement.lstrip().upper().startswith("INSERT ")


def _closing_paren(sql: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``start`` (canonical SQL: quotes are balanced)."""
    depth, quoted = 0, False
    for index in range(start, len(sql)):
        char = sql[index]
        if quoted:
            quoted = not (char == "'" and sql[index - 1] != "\\")
        elif char == "'":
            quoted = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    raise ClusterError("unbalanced parentheses in a view")


def embedded_parser() -> tuple[ClickHouseParser, Any]:
    """The parser of the ClickHouse engine bundled with adpulse (in memory, no server needed), and the
    client to close afterwards. One engine per process: call it where no other is open."""
    import clickhouse_connect

    client = clickhouse_connect.get_client(dsn="chdb://")
    return ClickHouseParser(client), client


def cluster_ddl(db: str, cluster: str, options: SchemaOptions, parser: ClickHouseParser) -> ClusterDDL:
    """The rewrite for ``db`` on ``cluster``, placed from every statement of every migration."""
    from schemas.migrate import all_statements

    return ClusterDDL(db, cluster, parser, all_statements(db, options))
