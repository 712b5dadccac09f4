"""The SQL guard: exactly one read-only query, no dangerous functions, known tables and columns, a row limit.

Every SQL that reaches a data source (written by a person or by a model) passes ``guard_sql`` first. It parses the
text with sqlglot in the dialect it was written in and refuses, with ``SQLRefusedError`` and a stable
``extra["rule"]``, anything but one ``SELECT`` (``WITH``, ``UNION``/``INTERSECT``/``EXCEPT`` allowed):

- ``parse_error``: sqlglot cannot parse it (the message says where);
- ``empty`` / ``too_long`` / ``too_complex``: nothing to run, more than 100,000 characters, or a syntax tree more
  than 256 levels deep (long ``AND``/``OR``/``||``/``UNION`` chains; checking them would take seconds);
- ``multiple_statements``: a second statement after a ``;`` (strings and comments are tokenized, not split);
- ``not_read_only``: DDL, DML (also inside a CTE: PostgreSQL writable CTEs), ``SELECT ... INTO``, ``FOR UPDATE``
  / ``FOR SHARE``, transactions, ``SET``, ``PRAGMA``, ``ATTACH``, ``COPY``, ``CALL``, ``EXPLAIN``, ``LOCK`` ...;
- ``hidden_code``: MySQL/MariaDB executable comments (``/*! ... */``), which the server runs;
- ``file_access``: functions and table references that read or write files or URLs (``read_csv``,
  ``pg_read_file``, ``LOAD_FILE``, ``INTO OUTFILE``, DuckDB's ``FROM 'file.csv'``);
- ``function_denied``: server administration, sleeping, locking, writes through functions (``nextval``),
  functions running other SQL (``query_to_xml``, DuckDB ``query``), secrets, huge allocations;
- ``system_table``: catalogs holding credentials or other sessions' queries (``pg_authid``, ``mysql.user``);
- ``unknown_table`` / ``unknown_column`` / ``ambiguous_column``: checked against the real schema when given; the
  message names the identifier, where it is and the closest known names (it goes back to the model on repair).

Accepted SQL comes back rewritten for the target dialect (comments dropped, real table and column spelling) with
``LIMIT max_rows + 1`` (a smaller limit already there is kept), so a caller sees when rows were cut off.

The functions are pure and synchronous; callers with large input run them in a worker thread.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Any, Final

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import OptimizeError, ParseError, SqlglotError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope
from sqlglot.schema import MappingSchema
from sqlglot.tokenizer_core import Token, TokenType

from rivulet.lib.exceptions import SQLRefusedError
from rivulet.sdk.data import DIALECTS, GuardedQuery, SchemaInfo, TableInfo

__all__ = ("MAX_DEPTH", "MAX_SQL_CHARS", "extract_sql", "guard_sql", "render_params", "transpile")

MAX_SQL_CHARS: Final = 100_000
"""Longer input is refused (``too_long``) before parsing."""

MAX_DEPTH: Final = 256
"""Deeper syntax trees are refused (``too_complex``): sqlglot's scope analysis is quadratic in the depth."""

_BIG_ARGUMENT: Final = 1_000_000
"""A literal above this passed to an allocating function (``repeat``, ``randomblob``) is refused."""

# --- statements ---------------------------------------------------------------------------------------------

_WRITE_NODES: Final[tuple[type[exp.Expr], ...]] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Command,
    exp.Set,
    exp.Pragma,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Copy,
    exp.Attach,
    exp.Detach,
    exp.Install,
    exp.Grant,
    exp.Revoke,
    exp.Use,
    exp.Describe,
    exp.Show,
    exp.Analyze,
    exp.Kill,
    exp.Execute,
    exp.Declare,
    exp.LoadData,
    exp.Cache,
    exp.Uncache,
    exp.Refresh,
)

_STATEMENT_VERBS: Final = frozenset({
    "ALTER", "ANALYZE", "ATTACH", "BACKUP", "BEGIN", "CALL", "CHECKPOINT", "CLUSTER", "COMMENT", "COMMIT", "COPY",
    "CREATE", "DEALLOCATE", "DELETE", "DESC", "DESCRIBE", "DETACH", "DISCARD", "DO", "DROP", "EXEC", "EXECUTE",
    "EXPLAIN", "EXPORT", "FLUSH", "GRANT", "HANDLER", "IMPORT", "INSERT", "INSTALL", "KILL", "LISTEN", "LOAD", "LOCK",
    "MERGE", "NOTIFY", "OPTIMIZE", "PIVOT", "PRAGMA", "PREPARE", "PURGE", "REFRESH", "REINDEX", "RELEASE", "RENAME",
    "REPAIR", "REPLACE", "RESET", "RESTORE", "REVOKE", "ROLLBACK", "SAVEPOINT", "SET", "SHOW", "SHUTDOWN", "START",
    "SUMMARIZE", "TRUNCATE", "UNLISTEN", "UNLOCK", "UNPIVOT", "UPDATE", "UPSERT", "USE", "VACUUM",
})  # fmt: skip
"""First words of statements that are not queries: a parse error after one of them is ``not_read_only``."""

# --- functions ----------------------------------------------------------------------------------------------

_FILE_FUNCTIONS: Final = frozenset({
    # MySQL / SQLite fileio
    "load_file", "readfile", "writefile", "edit", "lsdir", "fsdir",
    # PostgreSQL
    "pg_read_file", "pg_read_binary_file", "pg_stat_file", "pg_file_write", "pg_file_rename", "pg_file_unlink",
    "pg_file_sync", "pg_logdir_ls", "lo_import", "lo_export", "lo_from_bytea", "lo_put",
    # DuckDB
    "glob", "sniff_csv", "parquet_scan", "parquet_metadata", "parquet_schema", "parquet_file_metadata",
    "parquet_kv_metadata", "parquet_bloom_probe", "delta_scan", "iceberg_scan", "iceberg_metadata",
    "iceberg_snapshots", "st_read", "st_read_meta", "st_drivers", "sqlite_scan", "sqlite_attach", "postgres_scan",
    "postgres_scan_pushdown", "postgres_attach", "postgres_query", "postgres_execute", "mysql_query",
    "mysql_execute", "httpfs", "http_get", "http_post", "csv_scan", "json_scan",
})  # fmt: skip
_FILE_PREFIXES: Final = ("read_", "pg_ls_", "parquet_", "iceberg_", "delta_", "lo_")

_DENIED_FUNCTIONS: Final = frozenset({
    # time and locks (denial of service)
    "sleep", "pg_sleep", "pg_sleep_for", "pg_sleep_until", "benchmark", "get_lock", "release_lock",
    "release_all_locks", "is_free_lock", "is_used_lock", "master_pos_wait", "source_pos_wait",
    "wait_for_executed_gtid_set", "wait_until_sql_thread_after_gtids",
    # shell and native code
    "sys_exec", "sys_eval", "sys_get", "sys_set", "load_extension", "fts3_tokenizer",
    # settings, sessions, server administration
    "set_config", "getenv", "current_setting", "current_setting_value",
    # writes through functions
    "nextval", "setval",
    # other SQL run from inside the query
    "query_to_xml", "query_to_xml_and_xmlschema", "query_to_xmlschema", "cursor_to_xml", "cursor_to_xmlschema",
    "table_to_xml", "table_to_xml_and_xmlschema", "table_to_xmlschema", "schema_to_xml",
    "schema_to_xml_and_xmlschema", "schema_to_xmlschema", "database_to_xml", "database_to_xml_and_xmlschema",
    "database_to_xmlschema", "query", "query_table", "json_execute_serialized_sql", "json_deserialize_sql",
    # secrets, extensions
    "which_secret", "load", "install", "force_install",
})  # fmt: skip
_DENIED_PREFIXES: Final = ("dblink", "pg_", "duckdb_", "pragma_", "sys_", "xp_")

_ALLOWED_FUNCTIONS: Final = frozenset({
    # PostgreSQL catalog and size helpers (read-only, no file or session access)
    "pg_typeof", "pg_column_size", "pg_size_pretty", "pg_size_bytes", "pg_total_relation_size",
    "pg_relation_size", "pg_table_size", "pg_indexes_size", "pg_database_size", "pg_get_viewdef",
    "pg_get_constraintdef", "pg_get_indexdef", "pg_get_expr", "pg_get_userbyid", "pg_get_serial_sequence",
    "pg_table_is_visible", "pg_type_is_visible", "pg_function_is_visible", "pg_encoding_to_char",
    "pg_is_in_recovery", "pg_postmaster_start_time", "pg_input_is_valid", "pg_client_encoding",
    # DuckDB catalog views
    "duckdb_tables", "duckdb_columns", "duckdb_views", "duckdb_types", "duckdb_schemas", "duckdb_constraints",
    "duckdb_indexes", "duckdb_functions", "duckdb_keywords", "duckdb_databases",
    # SQLite/DuckDB table-valued PRAGMAs that only describe tables
    "pragma_table_info", "pragma_table_xinfo", "pragma_index_list", "pragma_index_info",
    "pragma_foreign_key_list", "pragma_version",
})  # fmt: skip

_SAFE_SETTINGS: Final = frozenset({
    "timezone", "datestyle", "intervalstyle", "server_version", "server_version_num", "server_encoding",
    "client_encoding", "lc_collate", "lc_ctype", "lc_monetary", "lc_numeric", "lc_time", "search_path",
    "standard_conforming_strings", "max_identifier_length", "default_text_search_config",
})  # fmt: skip

_ALLOCATING_FUNCTIONS: Final = frozenset({
    "randomblob", "zeroblob", "repeat", "replicate", "lpad", "rpad", "space", "printf", "format", "generate_series",
    "range",
})  # fmt: skip

# --- tables -------------------------------------------------------------------------------------------------

_SECRET_TABLES: Final = frozenset({
    "pg_shadow", "pg_authid", "pg_user_mapping", "pg_user_mappings", "pg_hba_file_rules", "pg_ident_file_mappings",
    "pg_file_settings", "pg_settings", "pg_largeobject", "pg_largeobject_metadata", "pg_stat_activity",
    "pg_stat_statements", "pg_subscription", "pg_replication_slots", "pg_stat_replication", "pg_db_role_setting",
    "user_privileges", "duckdb_secrets", "duckdb_settings",
})  # fmt: skip
_SECRET_SCHEMAS: Final = frozenset({"mysql", "performance_schema", "sys"})
_CATALOG_SCHEMAS: Final = frozenset({"information_schema", "pg_catalog"})
_CATALOG_TABLES: Final = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_sequence"})

_FILE_LIKE: Final = re.compile(
    r"[/\\:~]|^\.|\.(csv|tsv|txt|parquet|json|jsonl|ndjson|xlsx?|gz|zst|db|sqlite3?|duckdb|arrow|avro)$", re.IGNORECASE
)


def _refuse(rule: str, reason: str, dialect: str) -> SQLRefusedError:
    return SQLRefusedError(
        f"SQL refused ({rule}): {reason}", extra={"rule": rule, "reason": reason, "dialect": dialect}
    )


def _check_dialect(dialect: str) -> str:
    resolved = DIALECTS.get(dialect.lower())
    if resolved is None:
        choices = ", ".join(sorted(set(DIALECTS.values())))
        raise _refuse("unknown_dialect", f"unknown SQL dialect {dialect!r} (choose one of {choices})", dialect)
    return resolved


# --- public API ---------------------------------------------------------------------------------------------


def guard_sql(
    sql: str,
    *,
    dialect: str,
    schema: SchemaInfo | None,
    max_rows: int | None,
    source_dialect: str | None = None,
) -> GuardedQuery:
    """Check that ``sql`` is exactly one safe read-only query and rewrite it for ``dialect`` with a row limit.

    Args:
        sql: The query as written (a trailing ``;`` and comments are fine).
        dialect: The dialect of the database it will run on (sqlglot names; ``file`` means ``duckdb``).
        schema: The database's tables and columns; when given, every table and column must exist in it (columns
            come back qualified as ``table.column``).
        max_rows: The most rows wanted; the query gets ``LIMIT max_rows + 1`` unless it already has a smaller
            limit. ``None`` leaves the limit alone.
        source_dialect: The dialect ``sql`` is written in, when not ``dialect``.

    Returns:
        The rewritten SQL, the target dialect, the tables and qualified columns it reads and the limit in force.

    Raises:
        SQLRefusedError: With ``extra`` ``{"rule", "reason", "dialect"}``; ``rule`` is one of the codes in the
            module docstring.
    """
    target = _check_dialect(dialect)
    source = _check_dialect(source_dialect) if source_dialect else target
    try:
        return _guard(sql, source, target, schema, max_rows)
    except RecursionError:
        raise _refuse("too_complex", "the query nests too deeply to check; simplify it", source) from None


def _guard(sql: str, source: str, target: str, schema: SchemaInfo | None, max_rows: int | None) -> GuardedQuery:
    statement = _parse_one(sql, source)
    _check_depth(statement, source)
    _check_statement(statement, source)
    while isinstance(statement, exp.Subquery) and not any(v for k, v in statement.args.items() if k != "this"):
        statement = statement.this
    names = _output_names(statement)
    tables, columns = _resolve(statement, source, schema)
    _restore_output_names(statement, names, source)
    statement, limit = _apply_limit(statement, max_rows)
    text = _generate(statement, target)
    # Defence in depth: what goes to the database is parsed and checked again in its own dialect.
    _check_statement(_parse_one(text, target, max_chars=None), target)
    return GuardedQuery(sql=text, dialect=target, tables=tables, columns=columns, limit=limit)


def transpile(sql: str, *, source: str, target: str, pretty: bool = False) -> str:
    """``sql`` (one or more statements) rewritten from dialect ``source`` to ``target``; no guard is applied.

    Raises:
        SQLRefusedError: ``parse_error`` when ``sql`` does not parse in ``source``; ``unknown_dialect``.
    """
    read, write = _check_dialect(source), _check_dialect(target)
    if len(sql) > MAX_SQL_CHARS:
        raise _refuse("too_long", f"the SQL is {len(sql):,} characters long; the limit is {MAX_SQL_CHARS:,}", read)
    statements = [s for s in _parse_all(sql, read) if not isinstance(s, exp.Semicolon)]
    return ";\n".join(statement.sql(dialect=write, pretty=pretty) for statement in statements)


_PLACEHOLDER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def render_params(sql: str, dialect: str, params: dict[str, Any] | None) -> tuple[str, dict[str, Any] | None]:
    """Turn ``:name`` placeholders of guarded SQL into the driver's own style and check ``params`` match them.

    PostgreSQL (psycopg) and MySQL (aiomysql) get ``%(name)s`` with every literal ``%`` doubled (only when there
    are parameters: without them the drivers send the text as it is); SQLite keeps ``:name``; DuckDB gets
    ``$name``. Placeholders inside strings, quoted identifiers and comments are left alone, and ``::`` casts
    are not placeholders.

    Raises:
        SQLRefusedError: ``missing_param`` (a placeholder without a value) or ``unknown_param`` (a value without
            a placeholder).
    """
    target = _check_dialect(dialect)
    pieces, names = _split_placeholders(sql, target)
    given = dict(params or {})
    missing = sorted(set(names) - set(given))
    if missing:
        raise _refuse(
            "missing_param",
            f"no value for parameter{'s' if len(missing) > 1 else ''} {', '.join(':' + m for m in missing)}",
            target,
        )
    unknown = sorted(set(given) - set(names))
    if unknown:
        placeholders = ", ".join(":" + n for n in sorted(set(names))) or "none"
        raise _refuse(
            "unknown_param",
            f"parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} not used by the query "
            f"(its placeholders: {placeholders})",
            target,
        )
    if not names:
        return sql, (given or None)
    style = {"postgres": "%({})s", "mysql": "%({})s", "sqlite": ":{}", "duckdb": "${}"}[target]
    out: list[str] = []
    for kind, text in pieces:
        if kind == "param":
            out.append(style.format(text))
        elif kind == "code" and style.startswith("%"):
            out.append(text.replace("%", "%%"))
        elif style.startswith("%"):
            # Strings and comments: the driver still applies % formatting to the whole text.
            out.append(text.replace("%", "%%"))
        else:
            out.append(text)
    return "".join(out), given


_FENCE: Final = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_SQL_START: Final = re.compile(
    r"^\s*(?:(?:SQL(?:\s+query)?|Query|Answer)\s*:\s*)?"
    r"(?P<sql>(?:\(\s*)*(?:SELECT|WITH|FROM|VALUES|SHOW|EXPLAIN|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA)\b)",
    re.IGNORECASE | re.MULTILINE,
)
_PREFIX: Final = re.compile(r"^\s*(?:SQL(?:\s+query)?|Query|Answer)\s*:\s*", re.IGNORECASE)


def extract_sql(text: str) -> str:
    """The SQL in a model's answer: the first SQL-looking code fence, else the text from the first SQL keyword.

    Handles ```` ```sql ```` and bare fences, ``SQL:`` prefixes, prose before and explanations after the query
    (cut at the first blank line or line of prose after it), and removes a trailing ``;``. Returns ``""`` when
    there is nothing like SQL in ``text``.
    """
    fenced = [(lang.lower(), body) for lang, body in _FENCE.findall(text)]
    for lang, body in fenced:
        if lang in {"sql", "postgresql", "postgres", "mysql", "sqlite", "duckdb", "psql"} and body.strip():
            return _tidy_sql(body)
    for _lang, body in fenced:
        if _SQL_START.search(body):
            return _tidy_sql(body)
    without_fences = _FENCE.sub("", text) if fenced else text
    match = _SQL_START.search(without_fences)
    if match is None:
        return ""
    return _tidy_sql(_cut_trailing_prose(without_fences[match.start("sql") :]))


# --- parsing ------------------------------------------------------------------------------------------------


def _located(error: ParseError | TokenError) -> str:
    if isinstance(error, ParseError) and error.errors:
        first = error.errors[0]
        description = re.sub(r"<Token token_type: [^,]+, text: ([^,]*),[^>]*>", r"'\1'", str(first.get("description")))
        near = str(first.get("highlight") or "").strip()
        line, col = first.get("line"), first.get("col")
        if isinstance(col, int) and near:
            col = max(1, col - len(str(first.get("highlight"))) + 1)  # sqlglot points at the end of the token
        return f"{description or 'invalid SQL'} at line {line}, column {col}" + (f" near {near!r}" if near else "")
    return re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip() or "invalid SQL"


def _token_at(token: Token) -> str:
    """Where a token starts (sqlglot records where it ends)."""
    return f"line {token.line}, column {max(1, token.col - (token.end - token.start))}"


def _tokenize(sql: str, dialect: str) -> list[Token]:
    try:
        return sqlglot.tokenize(sql, read=dialect)
    except TokenError as error:
        raise _refuse("parse_error", _located(error), dialect) from None
    except (SqlglotError, ValueError, RecursionError, IndexError) as error:
        raise _refuse("parse_error", f"cannot read the SQL: {error}", dialect) from None


def _parse_all(sql: str, dialect: str, tokens: list[Token] | None = None) -> list[exp.Expr]:
    try:
        if tokens is None:
            parsed = sqlglot.parse(sql, read=dialect)
        else:
            parsed = Dialect.get_or_raise(dialect).parser().parse(tokens, sql)
    except (ParseError, TokenError) as error:
        raise _refuse("parse_error", _located(error), dialect) from None
    except RecursionError:
        raise _refuse("too_complex", "the query nests too deeply to parse; simplify it", dialect) from None
    except (SqlglotError, ValueError, IndexError, TypeError, AttributeError) as error:
        raise _refuse("parse_error", f"cannot parse the SQL: {type(error).__name__}: {error}", dialect) from None
    return [statement for statement in parsed if statement is not None]


def _parse_one(sql: str, dialect: str, *, max_chars: int | None = MAX_SQL_CHARS) -> exp.Expr:
    if max_chars is not None and len(sql) > max_chars:
        raise _refuse("too_long", f"the SQL is {len(sql):,} characters long; the limit is {MAX_SQL_CHARS:,}", dialect)
    tokens = _tokenize(sql, dialect)
    _check_tokens(tokens, dialect)
    try:
        statements = [s for s in _parse_all(sql, dialect, tokens) if not isinstance(s, exp.Semicolon)]
    except SQLRefusedError:
        first = tokens[0]
        if first.text.upper() in _STATEMENT_VERBS:
            raise _refuse(
                "not_read_only",
                f"only a SELECT query may run, not {first.text.upper()} ({_token_at(first)})",
                dialect,
            ) from None
        raise
    if len(statements) != 1:
        raise _refuse("empty", "there is no SQL statement to run", dialect)
    return statements[0]


def _check_tokens(tokens: list[Token], dialect: str) -> None:
    """Checks on the token stream: statements counted, executable comments and ``INTO OUTFILE`` found."""
    if not [t for t in tokens if t.token_type != TokenType.SEMICOLON]:
        raise _refuse("empty", "there is no SQL statement to run", dialect)
    seen_semicolon: Token | None = None
    previous: Token | None = None
    for token in tokens:
        for comment in token.comments:
            if comment.lstrip().startswith(("!", "M!")):
                raise _refuse(
                    "hidden_code",
                    f"MySQL executable comments (/*! ... */) run their contents; line {token.line} has one",
                    dialect,
                )
        if token.token_type == TokenType.SEMICOLON:
            seen_semicolon = seen_semicolon or token
        elif seen_semicolon is not None:
            raise _refuse(
                "multiple_statements",
                f"only one statement may run; another one starts after the ';' at {_token_at(seen_semicolon)} "
                f"({token.text[:40]!r})",
                dialect,
            )
        if (
            previous is not None
            and previous.token_type == TokenType.INTO
            and token.text.upper()
            in {
                "OUTFILE",
                "DUMPFILE",
            }
        ):
            raise _refuse("file_access", f"SELECT ... INTO {token.text.upper()} writes a file on the server", dialect)
        previous = token


# --- statement checks ---------------------------------------------------------------------------------------


def _check_depth(statement: exp.Expr, dialect: str) -> None:
    stack: list[tuple[exp.Expr, int]] = [(statement, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _refuse(
                "too_complex",
                f"the query nests more than {MAX_DEPTH} levels deep (long chains of AND/OR/|| count as nesting); "
                "simplify it, e.g. with IN (...) lists",
                dialect,
            )
        stack.extend((child, depth + 1) for child in node.iter_expressions())


def _statement_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    if isinstance(node, exp.Create | exp.Drop | exp.Alter):
        return f"{node.key.upper()} {str(node.args.get('kind') or '').upper()}".strip()
    return node.key.upper()


def _check_statement(statement: exp.Expr, dialect: str) -> None:
    root = statement
    while isinstance(root, exp.Subquery):
        root = root.this
    if not isinstance(root, exp.Select | exp.SetOperation | exp.Values):
        raise _refuse(
            "not_read_only",
            f"only one read-only SELECT query may run (WITH and UNION are fine), not {_statement_name(root)}",
            dialect,
        )
    for node in statement.walk():
        _check_node(node, dialect)


def _check_node(node: exp.Expr, dialect: str) -> None:
    if isinstance(node, _WRITE_NODES):
        where = " inside the query (a writable CTE or subquery)" if node.parent is not None else ""
        raise _refuse("not_read_only", f"{_statement_name(node)} is not read-only{where}", dialect)
    if isinstance(node, exp.Into):
        raise _refuse("not_read_only", "SELECT ... INTO creates a table; select the rows instead", dialect)
    if isinstance(node, exp.Lock):
        raise _refuse("not_read_only", "FOR UPDATE / FOR SHARE lock rows; remove the locking clause", dialect)
    if isinstance(node, exp.Func):
        _check_function(node, dialect)
    elif isinstance(node, exp.Table):
        _check_table_reference(node, dialect)


def _function_name(node: exp.Func) -> str:
    name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
    return unicodedata.normalize("NFKC", name).strip('"`[]').lower()


def _check_function(node: exp.Func, dialect: str) -> None:
    name = _function_name(node)
    if name == "current_setting" and _literal_argument(node) in _SAFE_SETTINGS:
        return
    if name in _ALLOWED_FUNCTIONS:
        return
    if name in _FILE_FUNCTIONS or name.startswith(_FILE_PREFIXES) or isinstance(node, exp.ReadCSV | exp.ReadParquet):
        raise _refuse("file_access", f"{name}() reads or writes files or URLs on the database server", dialect)
    if name in _DENIED_FUNCTIONS or name.startswith(_DENIED_PREFIXES):
        raise _refuse("function_denied", f"the function {name}() is not allowed in queries", dialect)
    if name in _ALLOCATING_FUNCTIONS:
        for literal in node.find_all(exp.Literal):
            if not literal.is_string and _number(literal.this) > _BIG_ARGUMENT:
                raise _refuse(
                    "function_denied",
                    f"{name}() with {literal.this} would allocate too much (at most {_BIG_ARGUMENT:,})",
                    dialect,
                )


def _literal_argument(node: exp.Func) -> str | None:
    first = node.expressions[0] if node.expressions else node.this
    if isinstance(first, exp.Literal) and first.is_string:
        return str(first.this).lower()
    return None


def _number(text: object) -> float:
    try:
        return float(str(text))
    except ValueError:
        return 0.0


def _check_table_reference(node: exp.Table, dialect: str) -> None:
    if isinstance(node.this, exp.Func):
        return  # a table function: checked as a function
    name = unicodedata.normalize("NFKC", node.name).lower()
    db = node.db.lower()
    if name in _SECRET_TABLES or db in _SECRET_SCHEMAS:
        shown = f"{db}.{name}" if db else name
        raise _refuse("system_table", f"{shown} holds credentials or other sessions' data", dialect)
    dotted = ".".join(part for part in (node.catalog, node.db, node.name) if part)
    if isinstance(node.this, exp.Literal) or _FILE_LIKE.search(node.name) or _FILE_LIKE.search(dotted):
        # DuckDB reads `FROM 'x.csv'`, `FROM "x.csv"` and even `FROM x.csv` as files (replacement scans).
        raise _refuse(
            "file_access", f"{dotted!r} is a file or URL, not a table; query the tables of the data source", dialect
        )


# --- schema ---------------------------------------------------------------------------------------------------


def _is_catalog(node: exp.Table) -> bool:
    return node.db.lower() in _CATALOG_SCHEMAS or node.name.lower() in _CATALOG_TABLES


def _needs_quotes(name: str, dialect: str) -> bool:
    pattern = r"[a-z_][a-z0-9_]*" if dialect == "postgres" else r"[A-Za-z_][A-Za-z0-9_]*"
    return re.fullmatch(pattern, name) is None


def _identifier(name: str, dialect: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=_needs_quotes(name, dialect))


def _where(node: exp.Expr) -> str:
    identifier = node if isinstance(node, exp.Identifier) else node.this
    meta: dict[str, Any] = identifier.meta if isinstance(identifier, exp.Expr) else {}
    line, col = meta.get("line"), meta.get("col")
    if line is None or col is None:
        return ""
    start, end = meta.get("start"), meta.get("end")
    if isinstance(start, int) and isinstance(end, int) and isinstance(col, int):
        col = col - (end - start)  # sqlglot records where the token ends
    return f" (line {line}, column {col})"


def _suggest(name: str, known: list[str]) -> str:
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.5)
    if close:
        return "; did you mean " + " or ".join(lowered[c] for c in close) + "?"
    shown = ", ".join(sorted(known)[:30]) + (" ..." if len(known) > 30 else "")
    return f"; known: {shown}" if known else ""


def _lookup(schema: SchemaInfo, node: exp.Table) -> TableInfo | None:
    wanted = ".".join(part for part in (node.db, node.name) if part).lower()
    for table in schema.tables:
        if table.name.lower() == wanted:
            return table
    if not node.db:
        return schema.table(node.name)
    return None


def _resolve(statement: exp.Expr, dialect: str, schema: SchemaInfo | None) -> tuple[list[str], list[str]]:
    """Tables read (real names) and ``table.column`` read; with a schema, unknown names are refused."""
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    references = [
        node
        for node in statement.find_all(exp.Table)
        if not isinstance(node.this, exp.Func) and not (not node.db and node.name.lower() in ctes)
    ]
    if schema is None:
        tables = list(dict.fromkeys(".".join(p for p in (t.db, t.name) if p) for t in references))
        columns = sorted({f"{c.table}.{c.name}" if c.table else c.name for c in statement.find_all(exp.Column)})
        return tables, columns
    found: dict[str, TableInfo] = {}
    aliases: dict[str, TableInfo] = {}
    for node in references:
        if _is_catalog(node):
            continue
        table = _lookup(schema, node)
        if table is None:
            known = [t.name for t in schema.tables]
            raise _refuse(
                "unknown_table",
                f"table {'.'.join(p for p in (node.db, node.name) if p)!r}{_where(node)} does not exist in "
                f"{schema.datasource}{_suggest(node.name, known)}",
                dialect,
            )
        found[table.name] = table
        aliases[node.alias_or_name.lower()] = table
        _rename_table(node, table.name, dialect)
    if len(found) < len({id(n) for n in references}) and any(_is_catalog(n) for n in references):
        return list(found), []  # catalogs have no schema here: their columns are not checked
    _rename_columns(statement, aliases, dialect)
    _qualify(statement, dialect, list(found.values()))
    return list(found), _real_names(_read_columns(statement), list(found.values()))


def _real_names(columns: list[str], tables: list[TableInfo]) -> list[str]:
    """``table.column`` as the schema spells them (normalisation lowercased case-insensitive dialects)."""
    spelled = {f"{t.name}.{c.name}".lower(): f"{t.name}.{c.name}" for t in tables for c in t.columns}
    spelled.update({f"{t.name}.*".lower(): f"{t.name}.*" for t in tables})
    return sorted({spelled.get(column.lower(), column) for column in columns})


def _rename_table(node: exp.Table, real: str, dialect: str) -> None:
    parts = real.split(".")
    node.set("this", _identifier(parts[-1], dialect))
    node.set("db", _identifier(parts[-2], dialect) if len(parts) > 1 else None)


def _rename_columns(statement: exp.Expr, references: dict[str, TableInfo], dialect: str) -> None:
    """Columns written in another case get the schema's spelling (quoted where the dialect needs it)."""
    everywhere = list(references.values())
    for column in statement.find_all(exp.Column):
        identifier = column.this
        if not isinstance(identifier, exp.Identifier) or (dialect == "postgres" and identifier.quoted):
            continue  # a quoted name in PostgreSQL means exactly that spelling
        owner = references.get(column.table.lower()) if column.table else None
        tables = [owner] if owner is not None else everywhere
        names = {c.name for t in tables for c in t.columns}
        if identifier.name in names:
            continue
        spellings = {name for name in names if name.lower() == identifier.name.lower()}
        if len(spellings) == 1:
            column.set("this", _identifier(spellings.pop(), dialect))


def _schema_key(name: str, dialect: str) -> str:
    identifier = normalize_identifiers(_identifier(name, dialect), dialect=dialect)
    return identifier.name


def _qualify(statement: exp.Expr, dialect: str, tables: list[TableInfo]) -> None:
    mapping: dict[str, dict[str, str]] = {}
    for table in tables:
        key = ".".join(_schema_key(part, dialect) for part in table.name.split("."))
        mapping[key] = {_schema_key(c.name, dialect): "UNKNOWN" for c in table.columns}
    nested: dict[str, Any] = _nest(mapping)
    try:
        qualify(
            statement,
            dialect=dialect,
            schema=MappingSchema(nested, dialect=dialect, normalize=False),
            expand_stars=False,
            quote_identifiers=False,
            identify=False,
            validate_qualify_columns=True,
        )
    except OptimizeError as error:
        raise _column_error(str(error), statement, tables, dialect) from None
    except SqlglotError as error:
        raise _refuse("unknown_column", re.sub(r"\x1b\[[0-9;]*m", "", str(error)), dialect) from None


def _nest(mapping: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Schemas for sqlglot must be equally deep: ``schema.table`` names put bare ones under a default schema."""
    if not any("." in name for name in mapping):
        return dict(mapping)
    nested: dict[str, Any] = {}
    for name, columns in mapping.items():
        db, _, table = name.rpartition(".")
        nested.setdefault(db or "", {})[table] = columns
    return nested


def _column_error(message: str, statement: exp.Expr, tables: list[TableInfo], dialect: str) -> SQLRefusedError:
    match = re.search(r"Column '([^']+)' could not be resolved(?: for table: '([^']+)')?", message)
    name = match.group(1) if match else None
    if name is None:
        unknown = re.search(r"Unknown column: (\S+)", message)
        name = unknown.group(1) if unknown else None
    if name is None:
        return _refuse("unknown_column", message, dialect)
    node = next((c for c in statement.find_all(exp.Column) if c.name == name), None)
    where = _where(node.this) if node is not None and isinstance(node.this, exp.Identifier) else ""
    owners = [t.name for t in tables if any(c.name.lower() == name.lower() for c in t.columns)]
    if len(owners) > 1 and not (match and match.group(2)):
        choices = " or ".join(f"{owner}.{name}" for owner in owners)
        return _refuse("ambiguous_column", f"column {name!r}{where} is in several tables: write {choices}", dialect)
    if len(owners) == 1 and match and match.group(2):
        return _refuse(
            "unknown_column",
            f"column {match.group(2)}.{name}{where}: {match.group(2)!r} is not a table or alias of the query here; "
            f"{name} is in {owners[0]}",
            dialect,
        )
    known = [f"{t.name}.{c.name}" for t in tables for c in t.columns]
    scope = ", ".join(t.name for t in tables) or "no tables"
    bare = {f"{t.name}.{c.name}": c.name for t in tables for c in t.columns}
    close = difflib.get_close_matches(name.lower(), [b.lower() for b in bare.values()], n=3, cutoff=0.5)
    hint = (
        "; did you mean " + " or ".join(k for k, b in bare.items() if b.lower() in close) + "?"
        if close
        else _suggest(name, known)
    )
    return _refuse("unknown_column", f"column {name!r}{where} does not exist in {scope}{hint}", dialect)


def _read_columns(statement: exp.Expr) -> list[str]:
    read: set[str] = set()
    for scope in traverse_scope(statement):
        tables = {
            alias: ".".join(p for p in (source.db, source.name) if p)
            for alias, source in scope.sources.items()
            if isinstance(source, exp.Table)
        }
        for column in scope.columns:
            if column.table in tables:
                read.add(f"{tables[column.table]}.{column.name}")
        for projection in scope.expression.selects if isinstance(scope.expression, exp.Select) else []:
            if isinstance(projection, exp.Star):
                read.update(f"{name}.*" for name in tables.values())
            elif (
                isinstance(projection, exp.Column)
                and isinstance(projection.this, exp.Star)
                and projection.table in tables
            ):
                read.add(f"{tables[projection.table]}.*")
    return sorted(read)


def _root_selects(statement: exp.Expr) -> list[exp.Select]:
    if isinstance(statement, exp.SetOperation):
        return _root_selects(statement.this) + _root_selects(statement.expression)
    return [statement] if isinstance(statement, exp.Select) else []


def _output_names(statement: exp.Expr) -> list[list[str | None]]:
    """The aliases of the output columns as written (``None``: no alias)."""
    return [
        [projection.alias if isinstance(projection, exp.Alias) else None for projection in select.expressions]
        for select in _root_selects(statement)
    ]


def _restore_output_names(statement: exp.Expr, names: list[list[str | None]], dialect: str) -> None:
    """Qualifying named every output column and lowercased aliases: result columns keep the names written."""
    for select, written in zip(_root_selects(statement), names, strict=False):
        if len(select.expressions) != len(written):
            continue
        for projection, alias in zip(list(select.expressions), written, strict=True):
            if not isinstance(projection, exp.Alias):
                continue
            if alias is None and re.fullmatch(r"_col_\d+", projection.alias):
                projection.replace(projection.this)
            elif alias and dialect in {"sqlite", "duckdb"} and alias != projection.alias:
                identifier = projection.args.get("alias")
                if isinstance(identifier, exp.Identifier):
                    identifier.set("this", alias)


# --- limit and output ---------------------------------------------------------------------------------------


def _is_single_row(statement: exp.Expr) -> bool:
    """One row whatever the data: aggregates without GROUP BY, or no FROM at all."""
    if not isinstance(statement, exp.Select) or statement.args.get("group"):
        return False
    if statement.args.get("from_") is None:
        return True
    if statement.find(exp.Window):
        return False
    return all(projection.find(exp.AggFunc) is not None for projection in statement.expressions)


def _limit_value(statement: exp.Expr) -> tuple[bool, int | None]:
    """Whether the statement has a limit, and its value when it is a plain number."""
    clause = statement.args.get("limit")
    if clause is None:
        return False, None
    value = clause.args.get("count") if isinstance(clause, exp.Fetch) else clause.expression
    if isinstance(value, exp.Literal) and not value.is_string and str(value.this).isdigit():
        return True, int(str(value.this))
    return True, None


def _apply_limit(statement: exp.Expr, max_rows: int | None) -> tuple[exp.Expr, int | None]:
    has_limit, current = _limit_value(statement)
    if max_rows is None:
        return statement, current
    if _is_single_row(statement) and not has_limit:
        return statement, None
    cap = max_rows + 1
    if current is not None and current <= max_rows:
        return statement, current
    if (has_limit and current is None) or not isinstance(statement, exp.Select | exp.SetOperation):
        # A computed limit (a parameter, an expression): keep it and cap the rows around it.
        wrapped = exp.select("*").from_(exp.Subquery(this=statement, alias=exp.TableAlias(this="_limited")))
        return wrapped.limit(cap, copy=False), cap
    if isinstance(statement.args.get("limit"), exp.Fetch):
        statement.set("limit", None)
    return statement.limit(cap, copy=False), cap


def _generate(statement: exp.Expr, dialect: str) -> str:
    """The SQL text in ``dialect`` (changes ``statement``: placeholders become ``:name`` in every dialect)."""
    for placeholder in list(statement.find_all(exp.Placeholder)):
        if placeholder.name:
            placeholder.replace(exp.Var(this=f":{placeholder.name}"))
    return statement.sql(dialect=dialect, comments=False)


# --- placeholders -------------------------------------------------------------------------------------------


def _split_placeholders(sql: str, dialect: str) -> tuple[list[tuple[str, str]], list[str]]:
    """``sql`` cut into code, quoted text (strings, quoted names, comments) and ``:name`` placeholders."""
    pieces: list[tuple[str, str]] = []
    names: list[str] = []
    code_start = i = 0
    length = len(sql)

    def flush(end: int) -> None:
        if end > code_start:
            pieces.append(("code", sql[code_start:end]))

    while i < length:
        end = _quoted_end(sql, i, dialect)
        if end is not None:
            flush(i)
            pieces.append(("quoted", sql[i:end]))
            code_start = i = end
            continue
        char = sql[i]
        if char == ":" and i + 1 < length and sql[i + 1] == ":":
            i += 2
            continue
        if char == ":" and (i == 0 or sql[i - 1] != ":"):
            match = _PLACEHOLDER.match(sql, i + 1)
            if match is not None and not sql.startswith("=", match.end()):
                flush(i)
                pieces.append(("param", match.group(0)))
                names.append(match.group(0))
                code_start = i = match.end()
                continue
        i += 1
    flush(length)
    return pieces, names


def _quoted_end(sql: str, i: int, dialect: str) -> int | None:
    """Where the string, quoted identifier or comment starting at ``i`` ends (``None``: none starts there)."""
    char = sql[i]
    if sql.startswith("--", i) or (char == "#" and dialect == "mysql"):
        newline = sql.find("\n", i)
        return len(sql) if newline < 0 else newline
    if sql.startswith("/*", i):
        close = sql.find("*/", i + 2)
        return len(sql) if close < 0 else close + 2
    if char == "$" and dialect in {"postgres", "duckdb"}:
        tag = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])
        if tag is not None:
            close = sql.find(tag.group(0), i + len(tag.group(0)))
            return len(sql) if close < 0 else close + len(tag.group(0))
        return None
    if char in "'\"`" or (char == "[" and dialect == "sqlite"):
        closing = "]" if char == "[" else char
        backslash = dialect == "mysql" or (char == "'" and i > 0 and sql[i - 1] in "eE" and dialect == "postgres")
        j = i + 1
        while j < len(sql):
            if backslash and sql[j] == "\\":
                j += 2
                continue
            if sql[j] == closing:
                if closing != "]" and sql.startswith(closing * 2, j):
                    j += 2
                    continue
                return j + 1
            j += 1
        return len(sql)
    return None


# --- extraction ---------------------------------------------------------------------------------------------

_PROSE_LINE: Final = re.compile(
    r"^\s*(?:this|the|here|it|note|explanation|i|we|these|that|explanation:)\b", re.IGNORECASE
)


def _cut_trailing_prose(text: str) -> str:
    lines: list[str] = []
    for index, line in enumerate(text.splitlines()):
        if index and (not line.strip() or (_PROSE_LINE.match(line) and not _SQL_START.match(line))):
            break
        lines.append(line)
        if line.rstrip().endswith(";"):
            break
    return "\n".join(lines)


def _tidy_sql(text: str) -> str:
    text = _PREFIX.sub("", text.strip(), count=1).strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text
