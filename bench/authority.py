"""A synthetic local authority for benchmarks: teams, workers, families, years of narrative.

    .venv/bin/python bench/authority.py /tmp/authority.db --entries 50000

Families get ~50 entries each over 2019-2026; entries are 2 to 14 sentences (about 650
characters on average) drawn from social-work phrasing with the family's own names; 3% are
amended once; about half carry confirmed facts (people, children seen, themes, risks).
Everything is invented. Rows go in with executemany in one transaction, and the search index
is built afterwards in one pass (`rebuild`), which is what the index build rate measures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.storage import (
    open_db,  # noqa: E402
    search_index,  # noqa: E402
)
from service.storage.migrations import open_migrated  # noqa: E402

ENTRIES_PER_FAMILY = 50


def _words(text: str) -> list[str]:
    return text.split()


FAMILIES_PER_TEAM = 1000
CASES_PER_WORKER = 25
KINDS = (("home_visit", 45), ("phone_call", 20), ("school_visit", 10), ("office_visit", 8),
         ("meeting", 12), ("other", 5))
SURNAMES = _words("""Jones Smith Khan Patel Williams Brown Taylor Davies Evans Wilson Thomas Roberts
Johnson Lewis Walker Robinson Wood Thompson White Watson Jackson Wright Green Harris Cooper King
Lee Martin Clarke James Morgan Hughes Edwards Hill Moore Clark Harrison Scott Young Morris Hall
Ward Turner Carter Phillips Mitchell Patel Adams Campbell Anderson Allen Cook Bailey Parker
Miller Davis Murphy Price Bell Baker Griffiths Kelly Simpson Marshall Collins Bennett Cox
Richardson Fox Gray Rose Chapman Hunt Robertson Shaw Reynolds Lloyd Ellis Richards Russell
Wilkinson Khan Begum Ahmed Ali Hussain Novak Kowalski Nowak Baptiste Okafor Mensah Osei Boateng
Nguyen Tran Silva Santos Costa Murray Doyle Byrne Ryan OBrien Walsh""")
CHILD_NAMES = _words("""Jack Amy Zara Yusuf Leo Lena Jaylen Amelia Olivia Noah Oliver Isla Ava Mia Harry
George Freddie Alfie Theo Archie Grace Lily Ella Evie Ruby Sophie Daisy Ivy Aisha Maryam Omar
Ibrahim Adam Musa Hana Kacper Zofia Maja Tomasz Chidi Ama Kofi Tariq Poppy Rosie Millie Max
Charlie Ethan Logan Jayden Kai Riley Tyler Mason Layla Sienna Willow Nia Eden Ezra""")
ADULT_NAMES = _words("""Sarah Mark Nadia Imran Ewa Pauline Shabana Tom Kelly Dean Lisa Gary Michelle
Craig Joanne Lee Donna Wayne Claire Darren Nicola Jason Emma Paul Kerry Stuart Leanne Ryan
Danielle Scott Natalie Carl Samantha Marcus Farah Bilal Agnieszka Piotr Grace Emmanuel""")
PROFESSIONALS = ["the health visitor", "the school nurse", "the class teacher", "the GP",
                 "the family support worker", "the designated safeguarding lead", "the midwife",
                 "the housing officer", "the police", "the nursery manager", "CAMHS",
                 "the drug and alcohol worker", "the youth worker", "the paediatrician"]
PLACES = ["the kitchen", "the living room", "her bedroom", "his bedroom", "the garden",
          "the park", "the school library", "the nursery", "the contact centre", "the car",
          "the office", "the flat", "Nan's house", "the family hub", "the GP surgery"]
SENTENCES = [
    "Home visit to {parent}, {child} and {child2}.",
    "{child} was seen alone in {place} and said things at home are {mood}.",
    "{child} was seen with {parent}; {child} was {appearance}.",
    "{parent} said things have been {mood} since the last visit.",
    "{child}'s attendance at school is {num}% this term.",
    "Call from {professional} about {child}'s {concern}.",
    "{professional} said {child} has been {state} in the mornings.",
    "The house was {house} and there was food in the cupboards.",
    "The flat was {house}; there were {hazard} in {place}.",
    "{child} had a bruise on {body} and said it happened at {event}.",
    "{child} has small bruises on {body}; {parent} said {child} fell at {event}.",
    "No bruising or marks were seen on {child}.",
    "{child}'s behaviour at school has been {mood}; the teacher has noticed {concern}.",
    "{parent} has been going to the parenting group on {day}s.",
    "{parent} said {partner} has been staying at his brother's during the week.",
    "{parent} and {partner} were arguing when I arrived; {child} was in {place}.",
    "Concerns about {concern} were discussed with {parent}, who agreed to the plan.",
    "{child} is feeding well and has gained weight; {professional} will reweigh next week.",
    "{child}'s weight has dropped from the {num}th centile; a feeding plan is in place.",
    "{parent} has missed two appointments with {professional}.",
    "The smell of cannabis in {place}, which {parent} denied.",
    "{parent} agreed to a drug test and to engage with the drug and alcohol service.",
    "{child} told me {child2} gets shouted at when {partner} has been drinking.",
    "{child} said they feel safe at home and likes living with {parent}.",
    "Nan ({nan}) said she is happy to have the children at weekends.",
    "Core group meeting with {parent}, {professional} and the school; next meeting in {num2} weeks.",
    "Strategy discussion held with the police and health about {child}.",
    "{child} was not seen because they were at school; a further visit is planned for {day}.",
    "{parent} was tearful and said she has not been sleeping; a referral to the GP was made.",
    "{child} has been going missing overnight and was found in {place} by the police.",
    "{child} described {partner} hitting {parent} last {day}.",
    "The children's rooms were {house}; {child2} showed me new toys.",
    "{parent} has found a new flat closer to school and the move is planned.",
    "Rent arrears have built up and {parent} is worried about eviction.",
    "{child} was calm and chatty and showed me a drawing of the family.",
    "{child} did not want to talk today and stayed close to {parent}.",
    "Plan agreed: {professional} to visit weekly, review at the next core group.",
    "The safety plan was reviewed with {parent} and {nan}.",
    "{child} has an appointment with the paediatrician on {day} about {concern}.",
    "Immunisations are up to date; dental check booked.",
    "{child2} was asleep in the cot for most of the visit.",
    "Contact with dad went well; {child} was happy to see him.",
]
FILL = {
    "mood": ["calmer", "better", "difficult", "mostly good", "unsettled", "tense", "stable",
             "chaotic", "improving", "worse"],
    "appearance": ["clean and appropriately dressed", "unkempt and hungry", "happy and chatty",
                   "quiet and withdrawn", "tired and pale", "well cared for"],
    "concern": ["weight", "attendance", "behaviour", "speech", "sleep", "headaches",
                "self-harm", "feeding", "toileting", "anxiety", "bruising", "hygiene",
                "lateness", "missing episodes", "online contact with older males"],
    "state": ["tired", "hungry", "late", "upset", "withdrawn", "angry", "sleepy", "settled"],
    "house": ["warm and tidy", "cluttered", "cold and damp", "very dirty", "clean",
              "chaotic", "sparsely furnished", "overcrowded"],
    "hazard": ["cigarette ends", "empty cans", "dirty nappies", "dog mess", "exposed wires",
               "medication within reach"],
    "body": ["his arm", "her arm", "the forehead", "the cheek", "his back", "her leg",
             "the shin", "the upper arm"],
    "event": ["the park", "school", "football", "nursery", "the trampoline", "home"],
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
    "num": [str(n) for n in range(9, 99, 4)],
    "num2": ["two", "four", "six", "eight"],
    "professional": PROFESSIONALS,
    "place": PLACES,
}
TAGS = ("health", "education", "emotional_wellbeing", "family_relationships", "basic_care",
        "housing", "finances", "ensuring_safety", "child_voice", "professional_contact")
RISKS = ("physical_injury", "domestic_abuse", "substance_misuse", "parental_mental_health",
         "neglect", "missing_from_home", "exploitation", "self_harm")
ASSERTIONS = (("present", 60), ("negated", 20), ("possible", 10), ("historical", 5),
              ("reported", 5))


@dataclass
class Built:
    entries: int
    revisions: int
    facts: int
    families: int
    teams: int
    load_seconds: float
    index_seconds: float
    optimize_seconds: float
    file_bytes: int


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...], k: int) -> list[str]:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options], k=k)


def _sentence_pool(rng: random.Random, size: int) -> list[str]:
    """Sentences with the slots that vary by family left as {child}, {parent} etc."""
    pool = []
    for _ in range(size):
        template = rng.choice(SENTENCES)
        values = {k: rng.choice(v) for k, v in FILL.items()}
        values.update(child="{child}", child2="{child2}", parent="{parent}",
                      partner="{partner}", nan="{nan}")
        pool.append(template.format(**values))
    return pool


def build(path: Path, entries: int, seed: int = 7, log: bool = True) -> Built:
    """Create `path` (which must not exist) holding a synthetic authority of `entries`."""
    if path.exists():
        raise SystemExit(f"{path} exists; remove it first")
    rng = random.Random(seed)
    open_migrated(path).close()  # the schema, through the real migrations
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")  # a throwaway bulk load: no rollback journal
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    families = max(1, entries // ENTRIES_PER_FAMILY)
    teams = max(1, -(-families // FAMILIES_PER_TEAM))
    started = time.perf_counter()
    stamp = "2026-11-01T09:00:00+00:00"
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)",
                     [(t, f"Bench team {t}", stamp) for t in range(1, teams + 1)])
    for team in range(1, teams + 1):
        search_index.add_shard(Database(conn), team)
    # Index in bulk after the load: no search triggers while rows go in.
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND"
                            " tbl_name IN ('entry_revisions', 'facts') AND name LIKE '%search%'"
                            ).fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    users: list[tuple] = []
    roles: list[tuple] = []
    workers_by_team: dict[int, list[int]] = {}
    user_id = 0
    for team in range(1, teams + 1):
        for role in ("reviewer", "manager"):
            user_id += 1
            users.append((user_id, f"{role}{team}", f"{role.title()} {team}", "x", team, stamp))
            roles.append((user_id, role))
        for n in range(max(1, FAMILIES_PER_TEAM // CASES_PER_WORKER)):
            user_id += 1
            users.append((user_id, f"worker{team}-{n}", f"Worker {team}-{n}", "x", team, stamp))
            roles.append((user_id, "worker"))
            workers_by_team.setdefault(team, []).append(user_id)
    conn.executemany("INSERT INTO users (id, username, display_name, password_hash, team_id,"
                     " created_at) VALUES (?, ?, ?, ?, ?, ?)", users)
    conn.executemany("INSERT INTO user_roles (user_id, role) VALUES (?, ?)", roles)

    pool = _sentence_pool(rng, 40_000)
    kinds = [k for k, _ in KINDS]
    kind_weights = [w for _, w in KINDS]
    case_rows, allocation_rows, people_rows = [], [], []
    entry_rows: list[tuple] = []
    revision_rows: list[tuple] = []
    fact_rows: list[tuple] = []
    counts = {"entries": 0, "revisions": 0, "facts": 0}
    person_id = entry_id = revision_id = fact_id = 0

    def flush() -> None:
        conn.executemany("INSERT INTO entries (id, case_id, author_id, status, kind, occurred_at,"
                         " created_at, finalised_at, revision_count) VALUES"
                         " (?, ?, ?, 'final', ?, ?, ?, ?, ?)", entry_rows)
        conn.executemany("INSERT INTO entry_revisions (id, entry_id, number, kind, occurred_at,"
                         " text, children, author_id, created_at) VALUES"
                         " (?, ?, ?, ?, ?, ?, ?, ?, ?)", revision_rows)
        conn.executemany('INSERT INTO facts (id, entry_id, case_id, revision, kind, person_id,'
                         ' label, assertion, alone, confirmed_by, confirmed_at)'
                         ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', fact_rows)
        entry_rows.clear()
        revision_rows.clear()
        fact_rows.clear()

    for case_id in itertools.count(1):
        team = (case_id - 1) % teams + 1
        surname = rng.choice(SURNAMES)
        case_rows.append((case_id, f"BEN-{case_id:06d}", surname, team, stamp))
        worker = rng.choice(workers_by_team[team])
        allocation_rows.append((case_id, worker, stamp))
        children = []
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            person_id += 1
            name = f"{rng.choice(CHILD_NAMES)} {surname}"
            people_rows.append((person_id, case_id, name, "child", stamp, stamp))
            children.append((person_id, name.split()[0]))
        adults = []
        for category in ("parent", "parent", "relative", "professional"):
            person_id += 1
            name = f"{rng.choice(ADULT_NAMES)} {surname}"
            people_rows.append((person_id, case_id, name, category, stamp, stamp))
            adults.append((person_id, name.split()[0]))
        names = {"parent": adults[0][1], "partner": adults[1][1], "nan": adults[2][1]}
        start = 2019 * 365 + rng.randrange(0, 5 * 365)
        for _ in range(max(1, int(rng.gauss(ENTRIES_PER_FAMILY, 12)))):
            if counts["entries"] >= entries:
                break
            entry_id += 1
            counts["entries"] += 1
            day = start + rng.randrange(0, 2 * 365)
            when = f"{day // 365}-{1 + day % 365 // 31:02d}-{1 + day % 365 % 31 % 28:02d}" \
                   f"T{9 + rng.randrange(8):02d}:{rng.choice(('00', '15', '30', '45'))}"
            kind = rng.choices(kinds, weights=kind_weights)[0]
            child = rng.choice(children)
            child2 = rng.choice(children)
            text = " ".join(rng.choices(pool, k=rng.randint(2, 14))).format(
                child=child[1], child2=child2[1], **names)
            about = json.dumps(sorted({c[0] for c in children}))
            revision_count = 2 if rng.random() < 0.03 else 1
            entry_rows.append((entry_id, case_id, worker, kind, when, stamp, stamp,
                               revision_count))
            for number in range(1, revision_count + 1):
                revision_id += 1
                counts["revisions"] += 1
                body = text if number == revision_count else text + " (draft wording)"
                revision_rows.append((revision_id, entry_id, number, kind, when, body, about,
                                      worker, stamp))
            if rng.random() < 0.5:
                new_facts = [("child_seen", child[0], None, None, int(rng.random() < 0.3)),
                             ("tag", None, rng.choice(TAGS), None, None)]
                if rng.random() < 0.4:
                    new_facts.append(("person", adults[0][0], None, None, None))
                if rng.random() < 0.2:
                    new_facts.append(("risk", None, rng.choice(RISKS),
                                      _weighted(rng, ASSERTIONS, 1)[0], None))
                for fact_kind, person, label, assertion, alone in new_facts:
                    fact_id += 1
                    counts["facts"] += 1
                    fact_rows.append((fact_id, entry_id, case_id, revision_count, fact_kind,
                                      person, label, assertion, alone, worker, stamp))
        if len(entry_rows) >= 50_000:
            flush()
        if counts["entries"] >= entries:
            break
    families = len(case_rows)
    conn.executemany("INSERT INTO cases (id, reference, family_name, team_id, created_at)"
                     " VALUES (?, ?, ?, ?, ?)", case_rows)
    conn.executemany("INSERT INTO allocations (case_id, user_id, allocated_at) VALUES (?, ?, ?)",
                     allocation_rows)
    conn.executemany("INSERT INTO people (id, case_id, name, category, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, ?, ?)", people_rows)
    flush()
    conn.execute("COMMIT")
    load_seconds = time.perf_counter() - started
    if log:
        print(f"loaded {counts['entries']:,} entries ({counts['revisions']:,} revisions, "
              f"{counts['facts']:,} facts, {families:,} families, {teams} teams) in "
              f"{load_seconds:.1f} s", file=sys.stderr)

    started = time.perf_counter()
    conn.execute("BEGIN")
    search_index.rebuild(Database(conn), optimize=False)  # what `casenotes reindex` runs
    conn.execute("COMMIT")
    index_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for table in search_index.shard_tables(Database(conn)):
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")
    optimize_seconds = time.perf_counter() - started
    for _, sql in triggers:
        conn.execute(sql)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    if log:
        print(f"indexed in {index_seconds:.1f} s, optimized in {optimize_seconds:.1f} s",
              file=sys.stderr)
    return Built(counts["entries"], counts["revisions"], counts["facts"], families, teams,
                 load_seconds, index_seconds, optimize_seconds, path.stat().st_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    built = build(args.path, args.entries, args.seed)
    db = open_db(args.path)
    print(f"{built.entries:,} entries, {built.file_bytes / built.entries:.0f} bytes each, "
          f"index agrees: {search_index.index_agrees(db)}")


if __name__ == "__main__":
    main()
