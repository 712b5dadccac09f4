"""Deterministic fixes of a refused query before the model is asked again (cheap and exact).

The guard refuses a query that names an unknown table or column, or an unqualified column that several tables of
the query have. Small models mostly get one thing wrong there: the column is right but qualified with the wrong
alias (``T2.shipped_date`` where ``shipped_date`` is in the table aliased ``T1``), or left unqualified in a join, or
a table name is a typo. ``autofix_sql`` rewrites exactly that on the sqlglot AST, scope by scope:

- a qualified column whose qualifier's table lacks it, and that exactly one table of the same ``FROM``/``JOIN``
  has: re-qualified with that table's alias;
- an unqualified column that several tables of the scope have: qualified with the first of them (in ``FROM`` then
  ``JOIN`` order);
- a column no table of the scope has, written as ``<table>_<column>`` of exactly one of them: renamed and
  qualified;
- a column no table of the scope has, that exactly one of the tables a foreign key links to the scope has (one
  key): that table joined through the key;
- ``JOIN ... ON a.x = b.y`` naming a column its table lacks, with exactly one foreign key between the two tables:
  the condition replaced by that key;
- ``A JOIN B ON A.x = B.x`` where ``B`` lacks ``x`` and no key links the two: ``B`` swapped for the one table that
  a foreign key on ``x`` links to ``A`` and that has every column the query reads through ``B``'s alias;
- a table that does not exist, with one close name (``difflib``) among the known tables: renamed.

The passes repeat while one fix makes another possible (a column re-qualified, then its join swapped). Anything
else (a column no table of the query has, a derived table's columns) is left to the model. The result is guarded
again by the caller; nothing here decides that the query is right.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from sqlglot import exp, parse_one
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import traverse_scope

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from rivulet.sdk.data import TableInfo

__all__ = ("AUTOFIX_RULES", "autofix_sql")

AUTOFIX_RULES = frozenset({"unknown_column", "ambiguous_column", "unknown_table"})
"""Guard rules ``autofix_sql`` may fix."""


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower()


def _index(tables: Sequence[TableInfo]) -> dict[str, TableInfo]:
    index: dict[str, TableInfo] = {}
    for table in tables:
        index.setdefault(table.name.lower(), table)
        index.setdefault(_short(table.name), table)
    return index


def _has(table: TableInfo, column: str) -> bool:
    wanted = column.lower()
    return any(c.name.lower() == wanted for c in table.columns)


def _close_table(name: str, tables: Sequence[TableInfo]) -> str | None:
    """The one known table ``name`` is a typo of (a single close match, or one clearly closer than the rest)."""
    known = {_short(t.name): t.name for t in tables}
    scored = sorted(
        ((difflib.SequenceMatcher(None, name.lower(), k).ratio(), k) for k in known),
        reverse=True,
    )
    close = [(score, k) for score, k in scored if score >= 0.6]
    if len(close) == 1 or (len(close) > 1 and close[0][0] >= 0.85 > close[1][0]):
        return known[close[0][1]]
    return None


def _fix_tables(statement: exp.Expr, tables: Sequence[TableInfo], changes: list[str]) -> None:
    index = _index(tables)
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for node in list(statement.find_all(exp.Table)):
        if isinstance(node.this, exp.Func) or not node.name:
            continue
        full = ".".join(p for p in (node.db, node.name) if p).lower()
        if full in index or node.name.lower() in ctes or (not node.db and node.name.lower() in index):
            continue
        real = _close_table(node.name, tables)
        if real is None:
            continue
        old = node.name
        node.set("this", exp.to_identifier(real.rsplit(".", 1)[-1]))
        changes.append(f"table {old} -> {real}")


def _select_aliases(scope_expression: exp.Expr) -> set[str]:
    if not isinstance(scope_expression, exp.Select):
        return set()
    return {e.alias.lower() for e in scope_expression.expressions if isinstance(e, exp.Alias) and e.alias}


def _fix_columns(statement: exp.Expr, tables: Sequence[TableInfo], changes: list[str]) -> None:
    index = _index(tables)
    for scope in traverse_scope(statement):
        # alias -> table, in FROM then JOIN order; derived tables and CTEs (scopes) are not checked
        sources: dict[str, TableInfo] = {}
        derived: set[str] = set()
        for alias, source in scope.sources.items():
            if isinstance(source, exp.Table):
                full = ".".join(p for p in (source.db, source.name) if p).lower()
                info = index.get(full) or index.get(source.name.lower())
                if info is not None:
                    sources[alias.lower()] = info
                    continue
            derived.add(alias.lower())
        if not sources:
            continue
        outputs = _select_aliases(scope.expression)
        spelled = list(scope.sources)
        if isinstance(scope.expression, exp.Select):
            _fix_join_conditions(scope.expression, sources=sources, tables=tables, spelled=spelled, changes=changes)
        for column in scope.columns:
            if not isinstance(column.this, exp.Identifier) or column.find_ancestor(exp.Join) is not None:
                continue  # a star; a join condition naming a wrong column is a wrong join: left to the model
            if column.find_ancestor(exp.Select) is not scope.expression:
                continue  # sqlglot lists a subquery's unqualified columns in the outer scope too: theirs to fix
            _fix_column(column, sources=sources, derived=derived, outputs=outputs, spelled=spelled, changes=changes)
            if not derived and isinstance(scope.expression, exp.Select):
                _join_missing(
                    column, scope.expression, sources=sources, tables=tables, spelled=spelled, changes=changes
                )


def _fix_column(
    column: exp.Column,
    *,
    sources: dict[str, TableInfo],
    derived: set[str],
    outputs: set[str],
    spelled: list[str],
    changes: list[str],
) -> None:
    """One column of a scope: ``sources`` maps its lowercased aliases to tables, ``derived`` are subqueries."""
    name = column.name
    qualifier = column.table.lower() if column.table else ""
    if qualifier in derived or (not qualifier and (name.lower() in outputs or derived)):
        return
    owners = [alias for alias, info in sources.items() if _has(info, name)]
    if qualifier and qualifier in sources and _has(sources[qualifier], name):
        return
    if not owners:
        renamed = None if derived else _unprefixed(name, sources)
        if renamed is not None:
            old = column.sql(dialect="")
            fixed = exp.column(renamed[1], table=_alias_spelling(spelled, renamed[0]))
            keep_name = isinstance(column.parent, exp.Select) and column.arg_key == "expressions"
            column.replace(exp.alias_(fixed, name) if keep_name else fixed)
            changes.append(f"{old} -> {fixed.sql(dialect='')}")
        return
    if (qualifier and len(owners) == 1) or (not qualifier and len(owners) > 1):
        old_qualifier = column.table
        column.set("table", exp.to_identifier(_alias_spelling(spelled, owners[0])))
        changes.append(f"{old_qualifier + '.' if old_qualifier else ''}{name} -> {column.table}.{name}")


def _fk_links(left: TableInfo, right: TableInfo) -> set[tuple[str, str]]:
    """``(left column, right column)`` pairs a foreign key of either table links."""
    links: set[tuple[str, str]] = set()
    for c in left.columns:
        table, referenced = _references(c.references)
        if table == _short(right.name):
            links.add((c.name, referenced))
    for c in right.columns:
        table, referenced = _references(c.references)
        if table == _short(left.name):
            links.add((referenced, c.name))
    return links


def _fix_join_conditions(
    select: exp.Select,
    *,
    sources: dict[str, TableInfo],
    tables: Sequence[TableInfo],
    spelled: list[str],
    changes: list[str],
) -> None:
    """``JOIN ... ON a.x = b.y`` naming a column its table lacks: fix the join.

    With one foreign key between the two tables, the condition becomes that key; with none, the joined table is
    swapped for the one that has what the query reads from it (``_swap_joined_table``).
    """
    joins: list[exp.Expr] = [j for j in select.args.get("joins") or [] if isinstance(j, exp.Join)]  # pyright: ignore[reportUnknownVariableType]
    for join in joins:
        on: object = join.args.get("on")
        if not isinstance(on, exp.EQ) or not all(isinstance(side, exp.Column) for side in (on.this, on.expression)):
            continue
        left, right = on.this, on.expression
        assert isinstance(left, exp.Column)
        assert isinstance(right, exp.Column)
        a, b = left.table.lower(), right.table.lower()
        if a not in sources or b not in sources or a == b:
            continue
        if _has(sources[a], left.name) and _has(sources[b], right.name):
            continue
        links = _fk_links(sources[a], sources[b])
        if not links and _swap_joined_table(select, join, on, sources=sources, tables=tables, changes=changes):
            continue
        if len(links) != 1:
            continue
        left_column, right_column = links.pop()
        fixed = exp.EQ(
            this=exp.column(left_column, table=_alias_spelling(spelled, a)),
            expression=exp.column(right_column, table=_alias_spelling(spelled, b)),
        )
        changes.append(f"ON {on.sql(dialect='')} -> ON {fixed.sql(dialect='')}")
        join.set("on", fixed)


def _swap_joined_table(
    select: exp.Select,
    join: exp.Expr,
    on: exp.EQ,
    *,
    sources: dict[str, TableInfo],
    tables: Sequence[TableInfo],
    changes: list[str],
) -> bool:
    """Swap the joined table ``B`` of ``A JOIN B ON A.x = B.x`` for the table the query meant.

    ``B`` lacks ``x`` and no foreign key links ``A`` and ``B``: ``B`` becomes the one table that a foreign key on
    ``x`` links to ``A`` and that has every column the query reads from ``B`` (under ``B``'s alias).

    Small models join the wrong table of a path (``categories JOIN order_items ON category_id``, where the key is
    ``products.category_id``); the query's other uses of the alias say which table was meant.
    """
    table = join.this
    left, right = on.this, on.expression
    if not isinstance(table, exp.Table) or not isinstance(left, exp.Column) or not isinstance(right, exp.Column):
        return False
    joined = table.alias_or_name.lower()
    if joined == right.table.lower():
        other, column = left, right
    elif joined == left.table.lower():
        other, column = right, left
    else:
        return False
    if joined not in sources or other.table.lower() not in sources or _has(sources[joined], column.name):
        return False
    anchor = sources[other.table.lower()]
    used = {c.name.lower() for c in select.find_all(exp.Column) if c.table.lower() == joined}
    candidates = [
        t
        for t in tables
        if all(_has(t, name) for name in used)
        and (other.name.lower(), column.name.lower()) in {(a.lower(), b.lower()) for a, b in _fk_links(anchor, t)}
    ]
    if len(candidates) != 1:
        return False
    replacement = candidates[0]
    old = sources[joined].name
    swapped = exp.to_table(replacement.name)
    table.replace(swapped.as_(table.alias) if table.alias else swapped)
    sources[joined] = replacement
    changes.append(f"JOIN {old} -> JOIN {replacement.name} (it has {column.name} and a foreign key to {anchor.name})")
    return True


def _references(column_references: str | None) -> tuple[str, str]:
    table, _, column = (column_references or "").rpartition(".")
    return _short(table) if table else "", column.lower()


def _join_missing(
    column: exp.Column,
    select: exp.Select,
    *,
    sources: dict[str, TableInfo],
    tables: Sequence[TableInfo],
    spelled: list[str],
    changes: list[str],
) -> None:
    """Join the one table that has a column missing from the scope, when one foreign key links it to the scope.

    The column must be in exactly one table outside the scope, and exactly one foreign key must link that table
    and a table of the scope (either way); the column is qualified with the joined table.
    """
    name = column.name
    if any(_has(info, name) for info in sources.values()):
        return
    if column.table and column.table.lower() not in sources:
        return
    in_scope = {_short(info.name) for info in sources.values()}
    candidates = [t for t in tables if _short(t.name) not in in_scope and _has(t, name)]
    linked = [(t, _scope_links(t, sources)) for t in candidates]
    linked = [(t, links) for t, links in linked if links]
    if len(linked) != 1:  # the column's table must be the one a foreign key links to the scope
        return
    target, links = linked[0]
    short = _short(target.name)
    if len(links) != 1 or short in {s.lower() for s in spelled}:
        return
    alias, scope_column, target_column = links.pop()
    on = exp.EQ(
        this=exp.column(target_column, table=short),
        expression=exp.column(scope_column, table=_alias_spelling(spelled, alias)),
    )
    select.join(exp.to_table(target.name), on=on, copy=False)
    sources[short] = target
    spelled.append(short)
    old = column.sql(dialect="")
    column.set("table", exp.to_identifier(short))
    changes.append(f"{old} -> {short}.{name} (joined {target.name} ON {on.sql(dialect='')})")


def _scope_links(target: TableInfo, sources: dict[str, TableInfo]) -> set[tuple[str, str, str]]:
    """``(scope alias, scope column, target column)`` for each foreign key between ``target`` and the scope."""
    short = _short(target.name)
    links: set[tuple[str, str, str]] = set()
    for alias, info in sources.items():
        for c in info.columns:
            table, referenced = _references(c.references)
            if table == short:
                links.add((alias, c.name, referenced))
        for c in target.columns:
            table, referenced = _references(c.references)
            if table == _short(info.name):
                links.add((alias, referenced, c.name))
    return links


def _unprefixed(name: str, sources: dict[str, TableInfo]) -> tuple[str, str] | None:
    """``(alias, column)``: ``name`` is ``<table>_<column>`` for exactly one table of the scope.

    ``payment_method`` for ``method`` of ``payments``, ``customer_name`` for ``name`` of ``customers``.
    """
    found: set[tuple[str, str]] = set()
    lowered = name.lower()
    for alias, info in sources.items():
        table = _short(info.name)
        for prefix in {table, table.rstrip("s"), table.removesuffix("es"), table.removesuffix("ies") + "y"}:
            if prefix and lowered.startswith(prefix + "_"):
                rest = lowered[len(prefix) + 1 :]
                found.update((alias, c.name) for c in info.columns if c.name.lower() == rest)
    return found.pop() if len(found) == 1 else None


def _alias_spelling(sources: Iterable[str], lowered: str) -> str:
    return next((alias for alias in sources if alias.lower() == lowered), lowered)


def autofix_sql(sql: str, *, dialect: str, tables: Sequence[TableInfo]) -> tuple[str, list[str]] | None:
    """``sql`` with wrong qualifiers, ambiguous columns and misspelt tables fixed, and what changed.

    ``None`` when nothing could be fixed (or the SQL does not parse). The caller guards the result again.
    """
    try:
        statement = parse_one(sql, dialect=dialect)
    except SqlglotError:
        return None
    if not isinstance(statement, exp.Query):
        return None
    changes: list[str] = []
    try:
        _fix_tables(statement, tables, changes)
        for _ in range(3):  # a fix can make another possible (a column re-qualified, then its join swapped)
            before = len(changes)
            _fix_columns(statement, tables, changes)
            if len(changes) == before:
                break
        fixed = statement.sql(dialect=dialect)
    except (SqlglotError, ValueError, KeyError):
        return None
    if not changes:
        return None
    return fixed, list(dict.fromkeys(changes))
