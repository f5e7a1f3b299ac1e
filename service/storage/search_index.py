"""The full-text index over final entry revisions: its schema, its upkeep, its rebuild.

The index is sharded by team: one FTS5 table per team (`entry_search_t<team id>`, team 0 for
cases without one), with external content read from a view over entry_revisions. Reviewers and
managers search their own team, so a search reads one shard, and FTS5's ranking statistics
(which read each query word's whole list of entries) cover one team rather than the
authority. Triggers keep every shard current for every writer: a new revision is indexed in
its case's team shard as it is inserted (and the version it replaces is re-marked as an
earlier version), and a case that moves team moves shard.

Each row's `scope` column holds tokens the searches AND with the user's words: "c<case id>",
"k<kind>", "a<author id>", "y<year it happened>", "o" on earlier versions of amended entries,
and tokens for the revision's confirmed facts (people, children seen, themes, risks: see _fact_token), kept
current as facts are confirmed. The scope is a pre-filter for speed; the authoritative access
rule and filters are the plain SQL on the compact rows (`entry_search_rows`) that every search
also applies (see storage/search.py).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from sqlite_utils import Database

from service import fact_kinds
from service.storage.db import one_row

TOKENIZER = "porter unicode61 remove_diacritics 2"
_SCOPE_SQL = "'c' || {case} || ' t' || coalesce({team}, 0)"


def create_entry_search(db: Database) -> None:
    scope = _SCOPE_SQL.format(case="entries.case_id", team="cases.team_id")
    old_scope = _SCOPE_SQL.format(case="OLD.id", team="OLD.team_id")
    db.executescript(
        f"""
        CREATE VIEW entry_search_content AS
            SELECT entry_revisions.id AS id, entry_revisions.text AS text, {scope} AS scope,
                   entries.case_id AS case_id
            FROM entry_revisions JOIN entries ON entries.id = entry_revisions.entry_id
            JOIN cases ON cases.id = entries.case_id;
        CREATE VIRTUAL TABLE entry_search USING fts5(
            text, scope, content='entry_search_content', content_rowid='id',
            tokenize='{TOKENIZER}'
        );
        -- The scope column must not weigh in the ranking.
        INSERT INTO entry_search (entry_search, rank) VALUES ('rank', 'bm25(1.0, 0.0)');
        CREATE TRIGGER entry_revisions_search AFTER INSERT ON entry_revisions
        BEGIN
            INSERT INTO entry_search (rowid, text, scope)
                SELECT id, text, scope FROM entry_search_content WHERE id = NEW.id;
        END;
        CREATE TRIGGER cases_team_search AFTER UPDATE OF team_id ON cases
        WHEN OLD.team_id IS NOT NEW.team_id
        BEGIN
            INSERT INTO entry_search (entry_search, rowid, text, scope)
                SELECT 'delete', id, text, {old_scope} FROM entry_search_content
                WHERE case_id = OLD.id;
            INSERT INTO entry_search (rowid, text, scope)
                SELECT id, text, scope FROM entry_search_content WHERE case_id = NEW.id;
        END;
        INSERT INTO entry_search (entry_search) VALUES ('rebuild');
        """
    )


# m002: a compact row per indexed revision (filters and facets read it instead of the
# text-heavy entry_revisions), scope tokens for kind and author, and a covering index on facts.
# Scope tokens are letters and digits only: unicode61 splits on underscores.
_SCOPE_M2 = ("'c' || {case} || ' t' || coalesce({team}, 0) || ' k' || replace({kind}, '_', '')"
             " || ' a' || {author}")


def create_search_rows(db: Database) -> None:
    scope = _SCOPE_M2.format(case="entries.case_id", team="cases.team_id",
                             kind="entry_revisions.kind", author="entries.author_id")
    new_scope = _SCOPE_M2.format(case="e.case_id", team="c.team_id", kind="NEW.kind",
                                 author="e.author_id")
    moved_old = _SCOPE_M2.format(case="OLD.id", team="OLD.team_id", kind="r.kind",
                                 author="r.author_id")
    db.executescript(
        f"""
        DROP TRIGGER entry_revisions_search;
        DROP TRIGGER cases_team_search;
        DROP VIEW entry_search_content;
        CREATE VIEW entry_search_content AS
            SELECT entry_revisions.id AS id, entry_revisions.text AS text, {scope} AS scope,
                   entries.case_id AS case_id, entries.author_id AS author_id,
                   entry_revisions.kind AS kind
            FROM entry_revisions JOIN entries ON entries.id = entry_revisions.entry_id
            JOIN cases ON cases.id = entries.case_id;
        CREATE TABLE entry_search_rows (
            id INTEGER PRIMARY KEY,  -- entry_revisions.id
            entry_id INTEGER NOT NULL,
            case_id INTEGER NOT NULL,
            number INTEGER NOT NULL,
            latest INTEGER NOT NULL,
            kind TEXT NOT NULL,
            occurred_at TEXT NOT NULL,
            author_id INTEGER NOT NULL,
            recorded_at TEXT NOT NULL
        );
        CREATE INDEX entry_search_rows_entry ON entry_search_rows (entry_id);
        CREATE INDEX entry_search_rows_case ON entry_search_rows (case_id, latest, occurred_at);
        INSERT INTO entry_search_rows
            SELECT r.id, r.entry_id, e.case_id, r.number, r.number = e.revision_count, r.kind,
                   r.occurred_at, e.author_id, coalesce(e.finalised_at, r.created_at)
            FROM entry_revisions AS r JOIN entries AS e ON e.id = r.entry_id;
        CREATE INDEX IF NOT EXISTS facts_search
            ON facts (entry_id, revision, kind, label, person_id, assertion, alone);
        CREATE TRIGGER entry_revisions_search AFTER INSERT ON entry_revisions
        BEGIN
            UPDATE entry_search_rows SET latest = 0
                WHERE entry_id = NEW.entry_id AND latest = 1 AND number < NEW.number;
            INSERT INTO entry_search_rows
                SELECT NEW.id, NEW.entry_id, e.case_id, NEW.number, 1, NEW.kind, NEW.occurred_at,
                       e.author_id, coalesce(e.finalised_at, NEW.created_at)
                FROM entries AS e WHERE e.id = NEW.entry_id;
            INSERT INTO entry_search (rowid, text, scope)
                SELECT NEW.id, NEW.text, {new_scope}
                FROM entries AS e JOIN cases AS c ON c.id = e.case_id WHERE e.id = NEW.entry_id;
        END;
        CREATE TRIGGER cases_team_search AFTER UPDATE OF team_id ON cases
        WHEN OLD.team_id IS NOT NEW.team_id
        BEGIN
            INSERT INTO entry_search (entry_search, rowid, text, scope)
                SELECT 'delete', r.id, r.text, {moved_old} FROM entry_search_content AS r
                WHERE r.case_id = OLD.id;
            INSERT INTO entry_search (rowid, text, scope)
                SELECT id, text, scope FROM entry_search_content WHERE case_id = NEW.id;
        END;
        INSERT INTO entry_search (entry_search) VALUES ('rebuild');
        """
    )


# m003: prefix indexes, so a prefix* query reads one prefix doclist instead of merging the
# doclists of every word that starts with it across the whole authority (a whole-team feed*
# went from ~500 ms to ~75 ms at 1M entries), for about twice the index size (381 to 820
# bytes per entry). FTS5 uses a prefix index only for a prefix of exactly its length: a
# longer one (school*) still merges the doclists of its words, ~230 ms over a whole team.
PREFIXES = "3 4 5"


def create_prefix_index(db: Database) -> None:
    # External content: dropping the index loses no text; the triggers name the table and
    # keep working once it is back.
    db.executescript(
        f"""
        DROP TABLE entry_search;
        CREATE VIRTUAL TABLE entry_search USING fts5(
            text, scope, content='entry_search_content', content_rowid='id',
            tokenize='{TOKENIZER}', prefix='{PREFIXES}'
        );
        INSERT INTO entry_search (entry_search, rank) VALUES ('rank', 'bm25(1.0, 0.0)');
        INSERT INTO entry_search (entry_search) VALUES ('rebuild');
        INSERT INTO entry_search (entry_search) VALUES ('optimize');
        """
    )


# m004: one index per team (see the module docstring). Rebuilding a 1M-entry authority's
# index this way costs about the same as one table; a whole-team search at that size went
# from ~70 ms to ~7 ms in ranking, most of which had been FTS5 reading the query words'
# lists across all twenty teams.
OLD_VERSION = "o"  # scope token of an earlier version of an amended entry


def shard_table(team_id: int | None) -> str:
    """The index table of a team's cases (team 0: cases without a team)."""
    return f"entry_search_t{int(team_id or 0)}"


def _base(revision: str = "r") -> str:
    """Case, kind, author and year-it-happened tokens of a revision row (alias `revision`) of
    entry `e`."""
    return (f"'c' || e.case_id || ' k' || replace({revision}.kind, '_', '') || ' a' || e.author_id"
            f" || ' y' || substr({revision}.occurred_at, 1, 4)")


# How each kind's confirmed facts (alias `f`) become scope tokens, by the kind's
# `search_scheme` (service/fact_kinds.py), so the index can apply the person, child seen
# (alone), theme and risk filters. L is the kind's `search_letter`.
def _label(f: str) -> str:
    return f"replace({f}.label, '_', '')"


TOKEN_SCHEMES = {
    # L<person>
    "person": lambda f, letter: f"'{letter}' || {f}.person_id",
    # L, p<person>, L<person>, and when seen alone l, l<person>
    "child_seen": lambda f, letter: (
        f"'{letter}' || coalesce(' p' || {f}.person_id || ' {letter}' || {f}.person_id, '')"
        f" || CASE WHEN {f}.alone THEN ' l' || coalesce(' l' || {f}.person_id, '') ELSE '' END"),
    # L<label>
    "label": lambda f, letter: f"'{letter}' || {_label(f)}",
    # L<label>, x<assertion>, L<label>x<assertion>
    "label_assertion": lambda f, letter: (
        f"'{letter}' || {_label(f)} || ' x' || coalesce({f}.assertion, '')"
        f" || ' {letter}' || {_label(f)} || 'x' || coalesce({f}.assertion, '')"),
}
# Each scheme's facet value ("facet|value|detail"), and whether a fact without a person
# still counts (a person facet needs a person on the record).
_FACET_VALUE = {
    "person": ("{f}.person_id", "''", False),
    "child_seen": ("{f}.person_id", "''", False),
    "label": ("coalesce({f}.label, '')", "''", True),
    "label_assertion": ("coalesce({f}.label, '')", "coalesce({f}.assertion, '')", True),
}
# Letters other scope tokens start with (case, team, kind of entry, author, year, earlier
# version), and those the schemes above write themselves (assertion, seen alone; the
# child-seen scheme also writes the person kind's p<person>).
_TAKEN = set("ctkayoxl")


def searched_kinds() -> tuple[fact_kinds.FactKind, ...]:
    """The kinds that give their revision scope tokens and facet keys, each checked: a known
    scheme and a letter of its own (a shared one would make one kind's filter match
    another's facts)."""
    kinds = tuple(k for k in fact_kinds.all_kinds() if k.search_scheme)
    letters: dict[str, str] = {}
    for kind in kinds:
        letter = kind.search_letter
        if kind.search_scheme not in TOKEN_SCHEMES:
            raise ValueError(f"fact kind {kind.name!r}: no search scheme {kind.search_scheme!r}")
        if not (len(letter) == 1 and letter.isascii() and letter.islower()) or (
                letter in letters or letter in _TAKEN):
            raise ValueError(f"fact kind {kind.name!r}: search letter {letter!r} is taken or"
                             " not one lower-case letter")
        letters[letter] = kind.name
    return kinds


def _quoted(names: list[str]) -> str:
    return "(" + ", ".join(f"'{n}'" for n in names) + ")"


def searched_in() -> str:
    """The searched kinds as an SQL list: ('person', 'risk', ...)."""
    return _quoted([k.name for k in searched_kinds()])


def _fact_token(f: str) -> str:
    """The tokens a confirmed fact (alias `f`) gives its revision (see TOKEN_SCHEMES)."""
    branches = " ".join(
        f"WHEN '{k.name}' THEN {TOKEN_SCHEMES[str(k.search_scheme)](f, k.search_letter)}"
        for k in searched_kinds())
    return f"CASE {f}.kind {branches} END"


def facet_sql(f: str = "f") -> tuple[str, str, str, str]:
    """SQL over facts `f` for each searched kind's facet name, value and detail, and the
    condition for a fact to count in its facet."""
    kinds = searched_kinds()

    def case(part: int | None) -> str:
        return f"CASE {f}.kind " + " ".join(
            f"WHEN '{k.name}' THEN "
            + (f"'{k.facet}'" if part is None else
               str(_FACET_VALUE[str(k.search_scheme)][part]).format(f=f))
            for k in kinds) + " END"

    always = [k.name for k in kinds if _FACET_VALUE[str(k.search_scheme)][2]]
    counted = f"({f}.person_id IS NOT NULL OR {f}.kind IN {_quoted(always)})"
    return case(None), case(0), case(1), counted


def _each_fact(value: str, separator: str, entry: str, number: str, where: str = "") -> str:
    """The distinct `value`s (over facts `f`) of revision `number` of `entry`'s people,
    children seen, themes and risks, joined by `separator` in a fixed order, so the same
    facts always give the same text ('' for none)."""
    return (f"coalesce((SELECT group_concat(v, {separator}) FROM (SELECT DISTINCT {value} AS v"
            f" FROM facts AS f WHERE f.entry_id = {entry} AND f.revision = {number}"
            f" AND f.kind IN {searched_in()}{where} ORDER BY v)), '')")


def _facts(entry: str, number: str, skip: str = "") -> str:
    """The fact tokens of a revision, each after a space (FTS5 deletes by re-tokenizing, so
    the same facts must always give the same scope)."""
    return _each_fact(f"' ' || {_fact_token('f')}", "''", entry, number, skip)


# Facet keys: "facet|value|detail" for each distinct person, theme and risk a revision's
# confirmed facts give it, newline-separated, so a search tallies facets from the rows it
# already read instead of joining thousands of facts.
def _facet_key() -> str:
    name, value, detail, _ = facet_sql("f")
    return f"{name} || '|' || {value} || '|' || {detail}"


def _facet_keys(entry: str, number: str) -> str:
    return _each_fact(_facet_key(), "char(10)", entry, number, f" AND {facet_sql('f')[3]}")


# An earlier version: a later revision of its entry exists.
_OLD = ("CASE WHEN EXISTS (SELECT 1 FROM entry_revisions AS x WHERE x.entry_id = r.entry_id"
        f" AND x.number > r.number) THEN ' {OLD_VERSION}' ELSE '' END")
def _scope() -> str:
    """The whole scope of revision `r` of entry `e`."""
    return f"{_base()} || {_OLD} || {_facts('r.entry_id', 'r.number')}"


_TEAM_OF_NEW = ("(SELECT coalesce(c.team_id, 0) FROM entries AS e JOIN cases AS c"
                " ON c.id = e.case_id WHERE e.id = NEW.entry_id)")


def _revision_rows_trigger() -> str:
    return f"""CREATE TRIGGER entry_revisions_search_rows AFTER INSERT ON entry_revisions
        BEGIN
            INSERT OR IGNORE INTO search_years VALUES (substr(NEW.occurred_at, 1, 4));
            UPDATE entry_search_rows SET latest = 0
                WHERE entry_id = NEW.entry_id AND latest = 1 AND number < NEW.number;
            INSERT INTO entry_search_rows
                SELECT NEW.id, NEW.entry_id, e.case_id, NEW.number, 1, NEW.kind, NEW.occurred_at,
                       e.author_id, coalesce(e.finalised_at, NEW.created_at),
                       {_facet_keys('NEW.entry_id', 'NEW.number')}
                FROM entries AS e WHERE e.id = NEW.entry_id;
        END"""


def _fact_rows_trigger() -> str:
    return f"""CREATE TRIGGER facts_search_rows AFTER INSERT ON facts
        WHEN NEW.kind IN {searched_in()}
        BEGIN
            UPDATE entry_search_rows SET facet_keys =
                {_facet_keys('entry_search_rows.entry_id', 'entry_search_rows.number')}
                WHERE entry_id = NEW.entry_id AND number = NEW.revision;
        END"""


# The triggers whose SQL depends on the kinds of fact (with each shard's, in add_shard).
_ROWS_TRIGGERS = (_revision_rows_trigger, _fact_rows_trigger)


def create_team_shards(db: Database) -> None:
    db.executescript(
        f"""
        DROP TRIGGER entry_revisions_search;
        DROP TRIGGER cases_team_search;
        DROP TABLE entry_search;
        DROP VIEW entry_search_content;
        CREATE TABLE search_shards (team_id INTEGER PRIMARY KEY);
        -- Every year an indexed revision happened in: date ranges name the years they need.
        CREATE TABLE search_years (year TEXT PRIMARY KEY) WITHOUT ROWID;
        INSERT INTO search_years SELECT DISTINCT substr(occurred_at, 1, 4) FROM entry_search_rows;
        ALTER TABLE entry_search_rows ADD COLUMN facet_keys TEXT NOT NULL DEFAULT '';
        UPDATE entry_search_rows SET facet_keys =
            {_facet_keys('entry_search_rows.entry_id', 'entry_search_rows.number')};
        {_ROWS_TRIGGERS[0]()};
        {_ROWS_TRIGGERS[1]()};
        -- A revision must never go unindexed because its team has no shard.
        CREATE TRIGGER entry_revisions_search_shard BEFORE INSERT ON entry_revisions
        WHEN NOT EXISTS (SELECT 1 FROM search_shards WHERE team_id = {_TEAM_OF_NEW})
        BEGIN SELECT RAISE(ABORT, 'this team has no search index: add_shard first'); END;
        CREATE TRIGGER cases_team_search_shard BEFORE UPDATE OF team_id ON cases
        WHEN NOT EXISTS (SELECT 1 FROM search_shards WHERE team_id = coalesce(NEW.team_id, 0))
        BEGIN SELECT RAISE(ABORT, 'this team has no search index: add_shard first'); END;
        """
    )
    for team_id in [0, *(row["id"] for row in db.query("SELECT id FROM teams ORDER BY id"))]:
        add_shard(db, team_id)


def add_shard(db: Database, team_id: int | None) -> str:
    """Create (and fill) the index of a team's cases, with the triggers that keep it current.
    Called when a team is created; safe inside a transaction (no executescript)."""
    team, table = int(team_id or 0), shard_table(team_id)
    if one_row(db, "SELECT 1 AS x FROM search_shards WHERE team_id = ?", [team]):
        return table
    previous = ("FROM entry_revisions AS r JOIN entries AS e ON e.id = r.entry_id"
                " WHERE r.entry_id = NEW.entry_id AND r.number = NEW.number - 1")
    statements = [
        f"""CREATE VIEW {table}_content AS
            SELECT r.id AS id, r.text AS text, {_scope()} AS scope, e.case_id AS case_id
            FROM entry_revisions AS r JOIN entries AS e ON e.id = r.entry_id
            JOIN cases AS c ON c.id = e.case_id WHERE coalesce(c.team_id, 0) = {team}""",
        f"""CREATE VIRTUAL TABLE {table} USING fts5(
            text, scope, content='{table}_content', content_rowid='id',
            tokenize='{TOKENIZER}', prefix='{PREFIXES}')""",
        # The scope column must not weigh in the ranking.
        f"INSERT INTO {table} ({table}, rank) VALUES ('rank', 'bm25(1.0, 0.0)')",
        # A new revision: the one it replaces becomes an earlier version.
        f"""CREATE TRIGGER {table}_add AFTER INSERT ON entry_revisions
            WHEN {_TEAM_OF_NEW} = {team}
            BEGIN
                INSERT INTO {table} ({table}, rowid, text, scope)
                    SELECT 'delete', r.id, r.text,
                           {_base()} || {_facts('r.entry_id', 'r.number')} {previous};
                INSERT INTO {table} (rowid, text, scope)
                    SELECT r.id, r.text, {_base()} || ' {OLD_VERSION}'
                           || {_facts('r.entry_id', 'r.number')} {previous};
                INSERT INTO {table} (rowid, text, scope)
                    SELECT NEW.id, NEW.text,
                           {_base("NEW")} || {_facts('NEW.entry_id', 'NEW.number')}
                    FROM entries AS e WHERE e.id = NEW.entry_id;
            END""",
        # A confirmed fact that gives its revision a token it lacked.
        f"""CREATE TRIGGER {table}_facts AFTER INSERT ON facts
            WHEN {_TEAM_OF_NEW} = {team} AND NEW.kind IN {searched_in()}
            AND NOT EXISTS (SELECT 1 FROM facts AS f WHERE f.entry_id = NEW.entry_id
                AND f.revision = NEW.revision AND f.id != NEW.id
                AND ({_fact_token('f')}) IS ({_fact_token('NEW')}))
            BEGIN
                INSERT INTO {table} ({table}, rowid, text, scope)
                    SELECT 'delete', r.id, r.text, {_base()} || {_OLD}
                           || {_facts('r.entry_id', 'r.number', ' AND f.id != NEW.id')}
                    FROM entry_revisions AS r JOIN entries AS e ON e.id = r.entry_id
                    WHERE r.entry_id = NEW.entry_id AND r.number = NEW.revision;
                INSERT INTO {table} (rowid, text, scope)
                    SELECT r.id, r.text, {_scope()}
                    FROM entry_revisions AS r JOIN entries AS e ON e.id = r.entry_id
                    WHERE r.entry_id = NEW.entry_id AND r.number = NEW.revision;
            END""",
        f"""CREATE TRIGGER {table}_out AFTER UPDATE OF team_id ON cases
            WHEN coalesce(OLD.team_id, 0) = {team} AND coalesce(NEW.team_id, 0) != {team}
            BEGIN
                INSERT INTO {table} ({table}, rowid, text, scope)
                    SELECT 'delete', r.id, r.text, {_scope()}
                    FROM entries AS e JOIN entry_revisions AS r ON r.entry_id = e.id
                    WHERE e.case_id = OLD.id;
            END""",
        f"""CREATE TRIGGER {table}_in AFTER UPDATE OF team_id ON cases
            WHEN coalesce(NEW.team_id, 0) = {team} AND coalesce(OLD.team_id, 0) != {team}
            BEGIN
                INSERT INTO {table} (rowid, text, scope)
                    SELECT id, text, scope FROM {table}_content WHERE case_id = NEW.id;
            END""",
        f"INSERT INTO {table} ({table}) VALUES ('rebuild')",
    ]
    for statement in statements:
        db.execute(statement)
    db.execute("INSERT INTO search_shards (team_id) VALUES (?)", [team])
    return table


# m005: the kinds of fact the index was built for, so a change of kinds rebuilds it.
def kinds_signature(kinds: Iterable[fact_kinds.FactKind] | None = None) -> str:
    """What the index's SQL depends on in the fact-kind registry."""
    return json.dumps([[k.name, k.search_scheme, k.search_letter, k.facet]
                       for k in (searched_kinds() if kinds is None else kinds)
                       if k.search_scheme])


def create_search_kinds(db: Database) -> None:
    db.execute("CREATE TABLE search_kinds (id INTEGER PRIMARY KEY CHECK (id = 1),"
               " signature TEXT NOT NULL)")
    # No signature yet: follow_kinds (run after the migrations) builds the index's SQL from
    # the registry once, so a database from before the registry ends with a fresh one's schema.
    db.execute("INSERT INTO search_kinds VALUES (1, '')")


def follow_kinds(db: Database) -> bool:
    """If the searched kinds of fact changed since the index was built, re-create the
    triggers, views and shards whose SQL names them and rebuild the index from the entries.
    Returns whether it did. Run after the migrations (storage/migrations.migrate)."""
    row = one_row(db, "SELECT signature FROM search_kinds WHERE id = 1")
    if row and row["signature"] == kinds_signature():
        return False
    teams = [row["team_id"] for row in db.query("SELECT team_id FROM search_shards")]
    for team in teams:
        table = shard_table(team)
        for trigger in ("add", "facts", "out", "in"):
            db.execute(f"DROP TRIGGER IF EXISTS {table}_{trigger}")
        db.execute(f"DROP TABLE IF EXISTS {table}")
        db.execute(f"DROP VIEW IF EXISTS {table}_content")
    db.execute("DELETE FROM search_shards")
    db.execute("DROP TRIGGER IF EXISTS entry_revisions_search_rows")
    db.execute("DROP TRIGGER IF EXISTS facts_search_rows")
    for trigger in _ROWS_TRIGGERS:
        db.execute(trigger())
    for team in teams:
        add_shard(db, team)
    rebuild(db)
    db.execute("INSERT OR REPLACE INTO search_kinds VALUES (1, ?)", [kinds_signature()])
    return True


def years(db: Database) -> list[int]:
    """Every year an indexed revision happened in."""
    return [int(row[0]) for row in db.conn.execute("SELECT year FROM search_years")
            if str(row[0]).isdigit()]


def shard_tables(db: Database) -> list[str]:
    return [shard_table(row["team_id"])
            for row in db.query("SELECT team_id FROM search_shards ORDER BY team_id")]


# --- the index ---------------------------------------------------------------------------

def rebuild(db: Database, *, optimize: bool = True) -> int:
    """Rebuild every shard (adding any a team lacks) and the compact rows from the entry
    revisions; returns how many revisions were indexed."""
    for team in db.query("SELECT id FROM teams WHERE id NOT IN (SELECT team_id FROM"
                         " search_shards)"):
        add_shard(db, team["id"])
    db.execute("DELETE FROM entry_search_rows")
    db.execute(
        "INSERT INTO entry_search_rows SELECT r.id, r.entry_id, e.case_id, r.number,"
        " r.number = e.revision_count, r.kind, r.occurred_at, e.author_id,"
        f" coalesce(e.finalised_at, r.created_at), {_facet_keys('r.entry_id', 'r.number')}"
        " FROM entry_revisions AS r JOIN entries AS e ON e.id = r.entry_id")
    db.execute("INSERT OR IGNORE INTO search_years"
               " SELECT DISTINCT substr(occurred_at, 1, 4) FROM entry_search_rows")
    for table in shard_tables(db):
        db.execute(f"INSERT INTO {table} ({table}) VALUES ('rebuild')")
        if optimize:
            db.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")
    return indexed_count(db)


def indexed_count(db: Database) -> int:
    return sum(int(one_row(db, f"SELECT count(*) AS n FROM {table}_docsize")["n"])  # type: ignore[index]
               for table in shard_tables(db))


def revision_count(db: Database) -> int:
    row = one_row(db, "SELECT count(*) AS n FROM entry_revisions")
    return int(row["n"]) if row else 0


def index_agrees(db: Database) -> bool:
    """Every team has a shard; FTS5's own check that each shard holds exactly the tokens of
    its team's stored text (and scope); and the compact rows match the revisions and which
    one is latest."""
    if one_row(db, "SELECT 1 AS x FROM teams WHERE id NOT IN (SELECT team_id FROM search_shards)"
               " UNION ALL SELECT 1 FROM entry_search_rows WHERE substr(occurred_at, 1, 4)"
               " NOT IN (SELECT year FROM search_years)"):
        return False
    try:
        for table in shard_tables(db):
            db.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError:
        return False
    wrong = one_row(
        db,
        "SELECT (SELECT count(*) FROM entry_revisions AS r LEFT JOIN entry_search_rows AS m"
        "  ON m.id = r.id JOIN entries AS e ON e.id = r.entry_id"
        "  WHERE m.id IS NULL OR m.entry_id != r.entry_id OR m.case_id != e.case_id"
        "   OR m.number != r.number OR m.latest != (r.number = e.revision_count)"
        "   OR m.kind != r.kind OR m.occurred_at != r.occurred_at OR m.author_id != e.author_id"
        f"   OR m.facet_keys != {_facet_keys('r.entry_id', 'r.number')})"
        " + (SELECT count(*) FROM entry_search_rows WHERE id NOT IN"
        "  (SELECT id FROM entry_revisions)) AS n")
    return bool(wrong) and wrong["n"] == 0
