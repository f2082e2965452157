"""An Argilla 2.8 `SearchEngine` answered from the server's own SQLite tables (no Elasticsearch).

Runs inside the server venv only (it imports `argilla_server`); `launcher.py` imports it in the
server, the rq worker and the server CLI, because each of them builds the engine by name.

The SQL tables are the single source of truth, so the write hooks (index records, responses,
suggestions, ...) have nothing to do: every query reads the live tables. What makes that fast
enough at 50,000 records is a handful of extra indexes (`INDEXES`, created by `bootstrap`) and
queries shaped to use them:
- progress is a covering-index count per record status;
- the annotator's queue ("next pending record") walks one fixed random order, the records' UUID4
  ids, starting at a point that depends on the annotator, so annotators spread over the dataset
  (Elasticsearch: `random_score` seeded by user id) and the page is an index range scan that
  stops after `limit` rows instead of ranking the whole dataset;
- its total is "records that match" minus "those the annotator answered";
- a text search reads the table in file order with one LIKE over each record's JSON text before any
  field is parsed, and pages by index only when many records match (`DENSE_MATCHES`).
This module also hardens SQLite for many writers (WAL, long busy timeout): see `_on_connect`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from argilla_server.enums import MetadataPropertyType, SimilarityOrder
from argilla_server.models import (
    Dataset,
    MetadataProperty,
    Record,
    Response,
    Suggestion,
    User,
    VectorSettings,
)
from argilla_server.search_engine.base import (
    AndFilter,
    Filter,
    FloatMetadataMetrics,
    IntegerMetadataMetrics,
    MetadataFilterScope,
    MetadataMetrics,
    Order,
    RangeFilter,
    RecordFilterScope,
    ResponseFilterScope,
    SearchEngine,
    SearchResponseItem,
    SearchResponses,
    SuggestionFilterScope,
    TermsFilter,
    TermsMetrics,
    TextQuery,
)
from argilla_server.settings import settings
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import create_async_engine

ENGINE_NAME = "sqlite"
RECORD_COLUMNS = {"id", "external_id", "inserted_at", "updated_at", "status"}
BUSY_TIMEOUT_MS = 60_000
DENSE_MATCHES = 1000  # a text search matching this many records pages by index (see `search`)
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')  # characters JSON text writes escaped

# Extra indexes on the server's tables (the server's own migrations never touch these names).
INDEXES = {
    "ix_ktokit_records_dataset_status_id": "records (dataset_id, status, id)",
    "ix_ktokit_records_dataset_id": "records (dataset_id, id)",
    "ix_ktokit_records_dataset_inserted": "records (dataset_id, inserted_at, id)",
    "ix_ktokit_responses_user_record": "responses (user_id, record_id, status)",
}

# What they guarantee (docs/recovery.md): a transaction is all or nothing, and the file is never corrupt
# after a kill, a crash or a power cut (journal); every answer the server acknowledged survives a kill of
# any process (the WAL is written before the reply) and, with synchronous FULL, a power cut or an OS crash
# too (the WAL is fsynced at each commit; NORMAL would sync only at checkpoints, so the last answers
# before a power cut could roll back). One fsync per commit is cheap next to argilla-server's own work
# per request, and record logging commits per batch. Writers wait for each other up to BUSY_TIMEOUT_MS
# (argilla-server's own `ARGILLA_DATABASE_SQLITE_TIMEOUT` is set to the same 60 s by the manager).
PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",  # writers queue for the lock instead of failing
    "PRAGMA journal_mode = WAL",  # readers never block the writer, nor the writer the readers
    "PRAGMA synchronous = FULL",  # an acknowledged answer survives a power cut too (see above)
    "PRAGMA temp_store = MEMORY",
    "PRAGMA cache_size = -32768",  # 32 MiB per connection
    "PRAGMA foreign_keys = ON",
)


def _contains(haystack: Any, needle: Any) -> int:
    """Unicode-aware case-insensitive substring test (SQLite's LIKE folds ASCII only)."""
    return int(
        haystack is not None and needle is not None and str(needle).casefold() in str(haystack).casefold()
    )


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, _record) -> None:
    """Every connection of every process (server, worker, CLI, alembic) gets the same hardening."""
    if not settings.database_is_sqlite:
        return
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()
    dbapi_connection.create_function("rg_contains", 2, _contains, deterministic=True)


def _path(*keys: str) -> str:
    return "$" + "".join('."{}"'.format(k.replace('"', '\\"')) for k in keys)


def _hex(value: Any) -> str:
    return UUID(str(value)).hex


def _user_start(user_id: Any) -> str:
    """Where this annotator enters the dataset's fixed random order (record ids are hex UUID4)."""
    return hashlib.md5(f"ktokit:{user_id}".encode()).hexdigest()


def _record_value(prop: str, value: Any) -> Any:
    if prop == "id":
        return _hex(value)
    if prop in ("inserted_at", "updated_at"):
        if isinstance(value, (int, float)):
            value = datetime.utcfromtimestamp(value / 1000 if value > 1e11 else value)
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if isinstance(value, datetime):
            return value.replace(tzinfo=None).isoformat(" ")
    return value


class _Sql:
    """Collects bind parameters while SQL fragments are built."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def p(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def plist(self, values: Iterable[Any]) -> str:
        return ", ".join(self.p(v) for v in values) or "NULL"


async def bootstrap() -> None:
    """After `database migrate`: WAL on the file and the extra indexes (idempotent)."""
    async with _read_engine().begin() as conn:
        for name, target in INDEXES.items():
            await conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {target}"))


_ENGINE = None


def _read_engine():
    """A pool of our own: searches never wait for a connection the request handlers hold."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = create_async_engine(settings.database_url, pool_size=4, max_overflow=8, pool_timeout=120)
    return _ENGINE


@SearchEngine.register(engine_name=ENGINE_NAME)
class SQLiteSearchEngine(SearchEngine):
    @classmethod
    async def new_instance(cls) -> SQLiteSearchEngine:
        return cls()

    async def close(self) -> None:
        pass

    async def ping(self) -> bool:
        return True

    async def info(self) -> dict:
        return {"name": ENGINE_NAME, "version": {"number": "1.0", "distribution": "ktokit-sql"}}

    # ---- write path: the SQL tables are the index --------------------------------------------------
    async def create_index(self, dataset: Dataset) -> None:
        pass

    async def delete_index(self, dataset: Dataset) -> None:
        pass

    async def configure_metadata_property(
        self, dataset: Dataset, metadata_property: MetadataProperty
    ) -> None:
        pass

    async def configure_index_vectors(self, vector_settings: VectorSettings) -> None:
        pass

    async def index_records(self, dataset: Dataset, records: Iterable[Record]) -> None:
        pass

    async def partial_record_update(self, record: Record, **update) -> None:
        pass

    async def delete_records(self, dataset: Dataset, records: Iterable[Record]) -> None:
        pass

    async def update_record_response(self, response: Response) -> None:
        pass

    async def delete_record_response(self, response: Response) -> None:
        pass

    async def update_record_suggestion(self, suggestion: Suggestion) -> None:
        pass

    async def delete_record_suggestion(self, suggestion: Suggestion) -> None:
        pass

    # ---- read path ----------------------------------------------------------------------------------
    async def _rows(self, sql: str, params: dict) -> list:
        async with _read_engine().connect() as conn:
            return list((await conn.execute(text(sql), params)).all())

    async def get_dataset_progress(self, dataset: Dataset) -> dict:
        if dataset.is_draft:
            return {}
        rows = await self._rows(
            "SELECT status, count(*) FROM records WHERE dataset_id = :ds GROUP BY status",
            {"ds": dataset.id.hex},
        )
        return {"total": sum(n for _, n in rows), **{s: n for s, n in rows}}

    async def get_dataset_user_progress(self, dataset: Dataset, user: User) -> dict:
        if dataset.is_draft:
            return {}
        # CROSS JOIN fixes the loop order: the user's responses (index), then their records by key;
        # left to itself the planner scans every record of the dataset instead
        rows = await self._rows(
            "SELECT x.status, count(*) FROM responses x CROSS JOIN records r ON r.id = x.record_id"
            " WHERE x.user_id = :u AND r.dataset_id = :ds GROUP BY x.status",
            {"ds": dataset.id.hex, "u": user.id.hex},
        )
        return {"total": sum(n for _, n in rows), **{s: n for s, n in rows}}

    async def compute_metrics_for(self, metadata_property: MetadataProperty) -> MetadataMetrics:
        params = {"ds": metadata_property.dataset_id.hex, "path": _path(metadata_property.name)}
        if metadata_property.type == MetadataPropertyType.terms:
            rows = await self._rows(
                "SELECT CAST(je.value AS TEXT) AS v, count(*) AS n"
                " FROM records r, json_each(r.metadata, :path) je"
                " WHERE r.dataset_id = :ds AND je.value IS NOT NULL GROUP BY v ORDER BY n DESC, v",
                params,
            )
            return TermsMetrics(
                total=sum(n for _, n in rows),
                values=[TermsMetrics.TermCount(term=str(v), count=n) for v, n in rows],
            )
        ((lo, hi),) = await self._rows(
            "SELECT min(v), max(v) FROM (SELECT json_extract(metadata, :path) AS v FROM records"
            " WHERE dataset_id = :ds) WHERE typeof(v) IN ('integer', 'real')",
            params,
        )
        if metadata_property.type == MetadataPropertyType.integer:
            return IntegerMetadataMetrics(
                min=None if lo is None else int(lo), max=None if hi is None else int(hi)
            )
        return FloatMetadataMetrics(min=lo, max=hi)

    async def search(
        self,
        dataset: Dataset,
        query: TextQuery | str | None = None,
        filter: Filter | None = None,
        sort: list[Order] | None = None,
        offset: int = 0,
        limit: int = 100,
        user_id: str | None = None,  # the server passes it for /me searches; the abstract signature lacks it
    ) -> SearchResponses:
        q = _Sql()
        where = await self._where(q, dataset, query, filter)
        total = await self._count(dataset, query, filter, q, where)
        n = q.p(limit + offset)
        # A text search that matches few records reads the table in file order (NOT INDEXED): walking an
        # index in id order fetches each record's row at random and reads the whole dataset to find a few
        # (50 vs 7 ms at 50,000 records). When many match, the index walk finds a page within a few rows.
        scan = bool(query) and total < DENSE_MATCHES
        if sort:
            order = ", ".join(self._order_sql(q, o) for o in sort) + ", r.inserted_at, r.id"
            sql = (
                f"SELECT r.id FROM records r WHERE {where} ORDER BY {order}"
                f" LIMIT {q.p(limit)} OFFSET {q.p(offset)}"
            )
        elif user_id is not None and scan:
            start = q.p(_user_start(user_id))
            sql = (
                f"SELECT r.id FROM records r NOT INDEXED WHERE {where}"
                f" ORDER BY (r.id < {start}), r.id LIMIT {q.p(limit)} OFFSET {q.p(offset)}"
            )
        elif user_id is not None:
            start = q.p(_user_start(user_id))
            sql = (
                f"SELECT id FROM (SELECT * FROM (SELECT 0 AS part, r.id FROM records r WHERE {where}"
                f" AND r.id >= {start} ORDER BY r.id LIMIT {n})"
                f" UNION ALL SELECT * FROM (SELECT 1 AS part, r.id FROM records r WHERE {where}"
                f" AND r.id < {start} ORDER BY r.id LIMIT {n}))"
                f" ORDER BY part, id LIMIT {q.p(limit)} OFFSET {q.p(offset)}"
            )
        else:
            table = "records r NOT INDEXED" if scan else "records r"
            sql = (
                f"SELECT r.id FROM {table} WHERE {where} ORDER BY r.inserted_at, r.id"
                f" LIMIT {q.p(limit)} OFFSET {q.p(offset)}"
            )
        rows = await self._rows(sql, q.params)
        score = None if sort else 1.0
        return SearchResponses(
            items=[SearchResponseItem(record_id=UUID(rid), score=score) for (rid,) in rows], total=total
        )

    async def _count(self, dataset: Dataset, query, filter: Filter | None, q: _Sql, where: str) -> int:
        queue = None if query else self._queue_filter(filter)
        if queue is None:
            table = "records r NOT INDEXED" if query else "records r"  # a text search reads every row
            ((total,),) = await self._rows(f"SELECT count(*) FROM {table} WHERE {where}", q.params)
            return total
        # The annotator's queue: matching records minus those the annotator has answered, two index counts
        user, record_filters = queue
        c = _Sql()
        cond = "".join(f" AND {self._filter_sql(c, f)}" for f in record_filters)
        c.params["ds"], c.params["u"] = dataset.id.hex, user.id.hex
        ((matching,),) = await self._rows(
            f"SELECT count(*) FROM records r WHERE r.dataset_id = :ds{cond}", c.params
        )
        ((answered,),) = await self._rows(
            f"SELECT count(*) FROM responses x CROSS JOIN records r ON r.id = x.record_id"
            f" WHERE x.user_id = :u AND r.dataset_id = :ds{cond}",
            c.params,
        )
        return matching - answered

    @staticmethod
    def _queue_filter(filter: Filter | None):
        """(user, record-column filters) when the filter is "pending for this user" plus record filters."""
        filters = filter.filters if isinstance(filter, AndFilter) else [filter] if filter else []
        pending = [
            f
            for f in filters
            if isinstance(f, TermsFilter)
            and isinstance(f.scope, ResponseFilterScope)
            and f.scope.property == "status"
            and f.scope.question is None
            and f.scope.user is not None
            and [str(v) for v in f.values] == ["pending"]
        ]
        rest = [f for f in filters if f not in pending]
        if len(pending) != 1 or not all(isinstance(f.scope, RecordFilterScope) for f in rest):
            return None
        return pending[0].scope.user, rest

    async def similarity_search(
        self,
        dataset: Dataset,
        vector_settings: VectorSettings,
        value: list[float] | None = None,
        record: Record | None = None,
        query: TextQuery | str | None = None,
        filter: Filter | None = None,
        max_results: int = 100,
        order: SimilarityOrder = SimilarityOrder.most_similar,
        threshold: float | None = None,
    ) -> SearchResponses:
        import numpy as np

        if bool(value) == bool(record):
            raise ValueError("Must provide either vector value or record to compute the similarity search")
        target = value or record.vector_value_by_vector_settings(vector_settings)
        if not target:
            raise ValueError("Cannot find a vector value to apply with provided info")
        q = _Sql()
        where = await self._where(q, dataset, query, filter)
        exclude = f" AND r.id != {q.p(record.id.hex)}" if record is not None else ""
        rows = await self._rows(
            f"SELECT r.id, v.value FROM records r JOIN vectors v ON v.record_id = r.id"
            f" WHERE v.vector_settings_id = {q.p(vector_settings.id.hex)} AND {where}{exclude}",
            q.params,
        )
        if not rows:
            return SearchResponses(items=[], total=0)
        matrix = np.array(
            [json.loads(raw) if isinstance(raw, str) else raw for _, raw in rows], dtype=np.float64
        )
        t = np.asarray(target, dtype=np.float64)
        if order == SimilarityOrder.least_similar:
            t = -t  # as Elasticsearch does: the most similar to the inverted vector
        norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(t) or 1.0)
        scores = (1.0 + (matrix @ t) / np.where(norms == 0, 1.0, norms)) / 2.0  # ES cosine score
        best = np.argsort(-scores, kind="stable")[:max_results]
        items = [SearchResponseItem(record_id=UUID(rows[i][0]), score=float(scores[i])) for i in best]
        if threshold is not None:
            items = [i for i in items if i.score >= threshold]
        return SearchResponses(items=items, total=len(items))

    # ---- SQL builders -------------------------------------------------------------------------------
    async def _where(self, q: _Sql, dataset: Dataset, query, filter: Filter | None) -> str:
        parts = [f"r.dataset_id = {q.p(dataset.id.hex)}"]
        if query:
            parts.append(await self._text_sql(q, dataset, query))
        if filter:
            parts.append(self._filter_sql(q, filter))
        return " AND ".join(parts)

    async def _text_sql(self, q: _Sql, dataset: Dataset, query: TextQuery | str) -> str:
        if isinstance(query, str):
            query = TextQuery(q=query)
        if query.field:
            names = [query.field]
        else:
            rows = await self._rows(
                "SELECT name FROM fields WHERE dataset_id = :ds"
                " AND coalesce(json_extract(settings, '$.type'), '') != 'image'",
                {"ds": dataset.id.hex},
            )
            names = [n for (n,) in rows]
        # Elasticsearch simple_query_string with default_operator=AND: every term must match some field
        terms = [a or b for a, b in re.findall(r'"([^"]+)"|([^\s"+|()~*-][^\s"|()~*]*)', query.q)] or [
            query.q
        ]
        clauses = []
        for term in (t.strip() for t in terms):
            if term.isascii():  # LIKE runs in C and folds ASCII case
                escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                pattern = q.p(f"%{escaped}%")
                tests = [f"json_extract(r.fields, {q.p(_path(n))}) LIKE {pattern} ESCAPE '\\'" for n in names]
                if tests and not _JSON_ESCAPED.search(term):
                    # a field holding the term holds it verbatim in the record's JSON text too: one LIKE
                    # over that text rules out most records before any field is parsed
                    tests = [f"r.fields LIKE {pattern} ESCAPE '\\' AND ({' OR '.join(tests)})"]
            else:
                t = q.p(term)
                tests = [f"rg_contains(json_extract(r.fields, {q.p(_path(n))}), {t})" for n in names]
            clauses.append(f"({' OR '.join(tests) or '0'})")
        return "(" + " AND ".join(clauses) + ")"

    def _filter_sql(self, q: _Sql, f: Filter) -> str:
        if isinstance(f, AndFilter):
            return "(" + " AND ".join([self._filter_sql(q, x) for x in f.filters] or ["1"]) + ")"
        scope = f.scope
        if isinstance(scope, RecordFilterScope):
            if scope.property not in RECORD_COLUMNS:
                raise ValueError(f"Cannot filter on record property {scope.property}")
            return self._match(q, f, f"r.{scope.property}", lambda v: _record_value(scope.property, v))
        if isinstance(scope, MetadataFilterScope):
            return self._json_match(q, f, "r.metadata", _path(scope.metadata_property))
        if isinstance(scope, SuggestionFilterScope):
            prop = scope.property or "value"
            cond = (
                self._match(q, f, f"s.{prop}")
                if prop in ("agent", "type")
                else self._json_match(q, f, f"s.{prop}", "$")
            )
            return (
                "EXISTS (SELECT 1 FROM suggestions s JOIN questions qq ON qq.id = s.question_id"
                " WHERE s.record_id = r.id AND qq.dataset_id = r.dataset_id"
                f" AND qq.name = {q.p(scope.question)} AND {cond})"
            )
        if isinstance(scope, ResponseFilterScope):
            user = f" AND x.user_id = {q.p(scope.user.id.hex)}" if scope.user else ""
            if scope.question:
                cond = self._json_match(q, f, 'x."values"', _path(scope.question, "value"))
                return f"EXISTS (SELECT 1 FROM responses x WHERE x.record_id = r.id{user} AND {cond})"
            if scope.property == "status" and isinstance(f, TermsFilter):
                values = [str(v) for v in f.values]
                others, parts = [v for v in values if v != "pending"], []
                if "pending" in values:  # pending: no response (of this user)
                    parts.append(f"NOT EXISTS (SELECT 1 FROM responses x WHERE x.record_id = r.id{user})")
                if others or not parts:
                    cond = f" AND x.status IN ({q.plist(others)})" if others else ""
                    parts.append(f"EXISTS (SELECT 1 FROM responses x WHERE x.record_id = r.id{user}{cond})")
                return "(" + " OR ".join(parts) + ")"
        raise ValueError(f"Cannot process filter {f}")

    @staticmethod
    def _match(q: _Sql, f: Filter, col: str, conv=lambda v: v) -> str:
        if isinstance(f, TermsFilter):
            return f"{col} IN ({q.plist(conv(v) for v in f.values)})"
        conds = [f"{col} IS NOT NULL"]
        if f.ge is not None:
            conds.append(f"{col} >= {q.p(conv(f.ge))}")
        if f.le is not None:
            conds.append(f"{col} <= {q.p(conv(f.le))}")
        return "(" + " AND ".join(conds) + ")"

    @staticmethod
    def _json_match(q: _Sql, f: Filter, col: str, path: str) -> str:
        # json_each yields one row for a scalar and one per item for an array (ES keyword/array semantics)
        if isinstance(f, TermsFilter):
            cond = f"CAST(je.value AS TEXT) IN ({q.plist(str(v) for v in f.values)})"
        elif isinstance(f, RangeFilter):
            conds = ["je.type IN ('integer', 'real')"]
            if f.ge is not None:
                conds.append(f"je.value >= {q.p(float(f.ge))}")
            if f.le is not None:
                conds.append(f"je.value <= {q.p(float(f.le))}")
            cond = " AND ".join(conds)
        else:
            raise ValueError(f"Cannot process filter {f}")
        return f"EXISTS (SELECT 1 FROM json_each({col}, {q.p(path)}) je WHERE {cond})"

    def _order_sql(self, q: _Sql, order: Order) -> str:
        scope, direction = order.scope, "DESC" if str(order.order).lower().endswith("desc") else "ASC"
        if isinstance(scope, RecordFilterScope):
            if scope.property not in RECORD_COLUMNS:
                raise ValueError(f"Cannot sort by record property {scope.property}")
            expr = f"r.{scope.property}"
        elif isinstance(scope, MetadataFilterScope):
            expr = f"json_extract(r.metadata, {q.p(_path(scope.metadata_property))})"
        elif isinstance(scope, SuggestionFilterScope):
            prop = scope.property or "value"
            value = f"s.{prop}" if prop in ("agent", "type") else f"json_extract(s.{prop}, '$')"
            expr = (
                f"(SELECT {value} FROM suggestions s JOIN questions qq ON qq.id = s.question_id"
                " WHERE s.record_id = r.id AND qq.dataset_id = r.dataset_id"
                f" AND qq.name = {q.p(scope.question)})"
            )
        elif isinstance(scope, ResponseFilterScope):
            user = f" AND x.user_id = {q.p(scope.user.id.hex)}" if scope.user else ""
            value = (
                f'avg(json_extract(x."values", {q.p(_path(scope.question, "value"))}))'
                if scope.question
                else "min(x.status)"
            )
            expr = f"(SELECT {value} FROM responses x WHERE x.record_id = r.id{user})"
        else:
            raise ValueError(f"Cannot sort by {scope}")
        return f"{expr} {direction} NULLS LAST"
