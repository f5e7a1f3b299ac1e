"""The `casenotes` command: serve, init, demo, user, token, and the engine commands."""

from __future__ import annotations

import importlib
import sys

import click

from service import accounts
from service.errors import CasenotesError
from service.settings import Settings
from service.storage import migrations as schema
from service.storage import open_db

# Engine commands import spaCy or Whisper; load them only when asked for.
LAZY_COMMANDS = {
    "suggest": ("service.nlp.commands", "suggest", "Print suggestions for annotated-note files."),
    "eval": ("service.nlp.commands", "evaluate", "Score the suggester against annotated notes."),
    "transcribe": ("service.asr.commands", "transcribe", "Transcribe a dictation on this machine."),
}


class CasenotesGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            module, attribute, _ = LAZY_COMMANDS[name]
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing the commands must not load spaCy or Whisper.
        rows = [(name, self.commands[name].get_short_help_str(60)) for name in self.commands]
        rows += [(name, short) for name, (_, _, short) in LAZY_COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


@click.group(cls=CasenotesGroup)
def cli() -> None:
    """Casenotes: narrative-first case recording. Settings come from CASENOTES_* variables."""


def _db():  # noqa: ANN202 - sqlite_utils Database
    """The database, once `casenotes init` has made its schema current (only init migrates)."""
    path = Settings().database_path
    db = open_db(path)
    if schema.pending(db):
        db.close()
        raise click.ClickException(f"The database at {path} is not ready: run `casenotes init`.")
    return db


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default CASENOTES_HOST).")
@click.option("--port", default=None, type=int, help="Port (default CASENOTES_PORT).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the web app and API."""
    import uvicorn

    from service.app import create_app

    settings = Settings()
    settings.check_secret()
    app = create_app(settings)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port,
                log_level="info", access_log=False)


@cli.command()
@click.option("--demo", is_flag=True, help="Quiet when the database already exists.")
def init(demo: bool) -> None:
    """Create the database (or bring its schema up to date)."""
    settings = Settings()
    existed = settings.database_path.exists()
    schema.open_migrated(settings.database_path).close()
    if not (demo and existed):
        click.echo(f"Database ready at {settings.database_path}")


@cli.command()
def demo() -> None:
    """Load the synthetic demo families and print the demo logins."""
    from service.demo import demo_logins, load_demo

    db = _db()
    loaded = load_demo(db)
    click.echo("Demo data loaded." if loaded else "Demo data already loaded.")
    click.echo("\nDemo logins (synthetic data only):")
    for username, password, roles in demo_logins():
        click.echo(f"  {username:<9} {password:<20} {roles}")
    settings = Settings()
    click.echo(f"\nOpen http://{settings.host}:{settings.port} once the server has started.\n")


@cli.group()
def user() -> None:
    """Add and list users, and set their roles."""


def _read_password(prompt: bool) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=prompt)


@user.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              help="worker, reviewer, manager or admin (repeat for more than one).")
@click.option("--team", default=None, help="Team name (created if new).")
@click.option("--name", "display_name", default=None, help="Full name shown in the app.")
def user_add(username: str, roles: tuple[str, ...], team: str | None,
             display_name: str | None) -> None:
    """Add a user. The password is prompted for, or read from stdin when piped."""
    db = _db()
    if team and not any(t["name"] == team for t in accounts.list_teams(db)):
        accounts.add_team(db, team)
    password = _read_password(True)
    created = accounts.add_user(db, username, password, list(roles), team, display_name)
    click.echo(f"Added {created.username} ({', '.join(sorted(created.roles))}).")


@user.command("list")
def user_list() -> None:
    """List users with their roles and team."""
    for row in accounts.list_users(_db()):
        click.echo(f"{row['username']:<20} {','.join(row['roles']):<28} {row['team_name'] or ''}")


@user.command("set-role")
@click.argument("username")
@click.argument("roles", nargs=-1, required=True)
def user_set_role(username: str, roles: tuple[str, ...]) -> None:
    """Replace USERNAME's roles with ROLES (worker, reviewer, manager, admin)."""
    changed = accounts.set_roles(_db(), username, list(roles))
    click.echo(f"{changed.username}: {', '.join(sorted(changed.roles))}")


@cli.group()
def token() -> None:
    """API bearer tokens for scripts."""


@token.command("create")
@click.argument("username")
def token_create(username: str) -> None:
    """Create a bearer token for USERNAME and print it alone on stdout."""
    click.echo(accounts.create_token(_db(), username))


@cli.group()
def people() -> None:
    """Likely duplicate person records across the authority, and merging them."""


@people.command("duplicates")
def people_duplicates() -> None:
    """List likely duplicate person records for an admin to review."""
    from service.people import duplicate_pairs

    pairs = duplicate_pairs(_db())
    if not pairs:
        click.echo("No likely duplicates.")
    for a, b, candidate in pairs:
        click.echo(f"{candidate.score:.2f}  #{a['id']} {a['name']} ({a['case_reference']}"
                   f"{', born ' + a['dob'] if a['dob'] else ''})  ~  #{b['id']} {b['name']} "
                   f"({b['case_reference']}{', born ' + b['dob'] if b['dob'] else ''})  "
                   f"[{'; '.join(candidate.reasons)}]")


@people.command("merge")
@click.argument("keep_id", type=int)
@click.argument("duplicate_id", type=int)
@click.option("--by", "admin", required=True, help="The admin making the merge (audited).")
def people_merge(keep_id: int, duplicate_id: int, admin: str) -> None:
    """Merge DUPLICATE_ID into KEEP_ID: both histories stay; the duplicate points at KEEP_ID."""
    from service.people import merge

    db = _db()
    merge(db, accounts.get_user_by_name(db, admin), keep_id, duplicate_id)
    click.echo(f"Merged #{duplicate_id} into #{keep_id}.")


# --- search -----------------------------------------------------------------------------

@cli.command("search")
@click.argument("query", default="")
@click.option("--user", "username", required=True,
              help="Search as this user, with their access (the search is logged as theirs).")
@click.option("--case", "case_id", type=int, default=None, help="Only this case (id).")
@click.option("--kind", default=None, help="Entry kind, e.g. home_visit.")
@click.option("--from", "occurred_from", default=None, help="Happened on or after (date).")
@click.option("--to", "occurred_to", default=None, help="Happened on or before (date).")
@click.option("--order", type=click.Choice(["relevance", "newest", "oldest"]),
              default="relevance")
@click.option("--all-versions", is_flag=True, help="Search earlier versions of amended entries.")
@click.option("--page", type=int, default=1)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def search_command(query: str, username: str, case_id: int | None, kind: str | None,
                   occurred_from: str | None, occurred_to: str | None, order: str,
                   all_versions: bool, page: int, as_json: bool) -> None:
    """Search the narrative as USER would (for administrators at the console)."""
    import json

    from service import search
    from service.nlp.rule_files import shared_rule_files

    db = _db()
    params = {"q": query, "case": case_id, "kind": kind, "from": occurred_from,
              "to": occurred_to, "order": order, "revisions": "all" if all_versions else None,
              "page": page}
    wanted, hints = search.request_from({k: v for k, v in params.items() if v is not None})
    taxonomy = shared_rule_files(Settings().models_dir).taxonomy
    results = search.search(db, accounts.get_user_by_name(db, username), wanted, hints,
                            taxonomy=taxonomy, via="cli")
    if as_json:
        click.echo(json.dumps({"total": results.total, "considered": results.considered,
                               "hints": results.hints, "results": results.hits},
                              ensure_ascii=False))
        return
    for hint in results.hints:
        click.echo(f"Hint: {hint}", err=True)
    click.echo(f"{results.total} result{'s' if results.total != 1 else ''}"
               + (f", page {wanted.page} of {results.pages}" if results.pages > 1 else "")
               + (f"; the most relevant of the newest {results.considered:,}"
                  if results.considered and wanted.order == "relevance" else ""))
    for hit in results.hits:
        snippet = "".join(f"[{p['text']}]" if p["match"] else p["text"] for p in hit["snippet"])
        version = (f" (version {hit['revision']} of {hit['revision_count']})"
                   if hit["revision"] < hit["revision_count"] else "")
        click.echo(f"\n{hit['case_reference']} {hit['family_name']} · {hit['kind_label']} · "
                   f"{hit['occurred_at']} · {hit['author_name']} · entry {hit['entry_id']}"
                   f"{version}")
        click.echo("  " + " ".join(snippet.split()))


@cli.command()
def reindex() -> None:
    """Rebuild the search index from the entries."""
    import time

    from service import search

    started = time.perf_counter()
    indexed, stored = search.reindex(_db())
    click.echo(f"Indexed {indexed} of {stored} entry revisions in "
               f"{time.perf_counter() - started:.1f} s.")


def main() -> None:
    try:
        cli(standalone_mode=False)
    except CasenotesError as err:
        click.echo(f"Error: {err.message}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)


if __name__ == "__main__":
    main()
