"""python -m bench [seed|run|api|pack|verify|pack-build]: see bench/README.md.

Without a command it seeds the full-size register (skipped when already there) and runs.
"""

import argparse
import os
import sys

USAGE_DATABASE = (
    "bench needs PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/constancia_bench "
    "make bench (create and migrate that database first, see bench/README.md)"
)


def _common(org: str) -> argparse.ArgumentParser:
    """The options every sub-command takes, with its own default organisation.

    A fresh parent per default: sub-parsers share their parents' action objects, so a
    `set_defaults(org=...)` on one sub-command would change the default of all of them.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--org", default=org, help=f"the organisation's slug (default {org})")
    common.add_argument(
        "--any-database",
        action="store_true",
        help="allow a database whose name does not contain 'bench' (it will be written to)",
    )
    return common


def _parser() -> argparse.ArgumentParser:
    common = _common("bench")
    sizes = argparse.ArgumentParser(add_help=False)
    sizes.add_argument("--subjects", type=int, default=None, help="default 200000")
    sizes.add_argument("--events", type=int, default=None, help="default 1000000")
    sizes.add_argument(
        "--small", action="store_true", help="quick preset: 20000 subjects, 100000 events"
    )
    measure = argparse.ArgumentParser(add_help=False)
    measure.add_argument(
        "--appends", type=int, default=2000, help="appends per writer case (default 2000)"
    )
    measure.add_argument(
        "--writers", type=int, default=4, help="concurrent writers in the second case (default 4)"
    )
    measure.add_argument("--runs", type=int, default=50, help="requests per page (default 50)")
    measure.add_argument(
        "--skip-verify", action="store_true", help="do not recompute the whole chain"
    )

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser(
        "seed", parents=[common, sizes], help="create the organisation, subjects and ledger"
    )
    commands.add_parser("run", parents=[common, measure], help="measure and print the table")
    commands.add_parser(
        "verify", parents=[common], help="(used by run) verify the chain, print JSON"
    )
    commands.add_parser("all", parents=[common, sizes, measure], help="seed, then run (default)")
    pack = commands.add_parser(
        "pack",
        parents=[_common("bench-pack")],
        help="seed org bench-pack, export its whole evidence pack in a child process, check it",
    )
    pack.add_argument("--subjects", type=int, default=10_000, help="default 10000")
    pack.add_argument("--events", type=int, default=100_000, help="default 100000")
    pack.add_argument(
        "--proofs", type=int, default=300, help="events with a ~200 KB proof file (default 300)"
    )
    pack.add_argument("--keep", action="store_true", help="keep the ZIP (its path goes to stderr)")
    api = commands.add_parser(
        "api",
        parents=[common],
        help="the REST API through gunicorn beside a bare Django view (needs a seeded register)",
    )
    api.add_argument(
        "--requests", type=int, default=4000, help="consent checks, and bare views (default 4000)"
    )
    api.add_argument("--concurrency", type=int, default=4, help="client processes (default 4)")
    api.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    api.add_argument(
        "--batches", type=int, default=20, help="batch checks of 1,000 numbers (default 20)"
    )
    api.add_argument(
        "--records", type=int, default=500, help="consents of new people recorded (default 500)"
    )
    build = commands.add_parser(
        "pack-build", parents=[common], help="(used by pack) build the pack, print JSON"
    )
    build.add_argument("--out", required=True, help="where to write the ZIP")
    return parser


def _setup(args) -> None:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit(USAGE_DATABASE)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if "bench" not in name and not args.any_database:
        sys.exit(
            f"bench writes a large organisation into the database {name!r}: point DATABASE_URL "
            "at a database whose name contains 'bench', or pass --any-database."
        )


def _sizes(args) -> dict:
    from bench.seed import FULL, SMALL

    sizes = dict(SMALL if args.small else FULL)
    if args.subjects is not None:
        sizes["subjects"] = args.subjects
    if args.events is not None:
        sizes["events"] = args.events
    return sizes


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["all", *argv]
    args = _parser().parse_args(argv)
    _setup(args)

    if args.command == "verify":
        from bench.verify import verify_json

        print(verify_json(slug=args.org))
        return 0

    if args.command == "pack-build":
        from bench.pack import build_json

        print(build_json(slug=args.org, out=args.out))
        return 0

    if args.command == "api":
        from bench.api import api

        return api(
            slug=args.org,
            requests=args.requests,
            concurrency=args.concurrency,
            workers=args.workers,
            batches=args.batches,
            records=args.records,
            log=_log,
        )

    from bench import pack, run, seed

    if args.command == "pack":
        return pack.pack(
            slug=args.org,
            subjects=args.subjects,
            events=args.events,
            proofs=args.proofs,
            keep=args.keep,
            any_database=args.any_database,
            log=_log,
        )

    if args.command in ("seed", "all"):
        seed.seed(slug=args.org, **_sizes(args), log=_log)
    if args.command in ("run", "all"):
        return run.run(
            slug=args.org,
            appends=args.appends,
            writers=args.writers,
            runs=args.runs,
            verify=not args.skip_verify,
            any_database=args.any_database,
            log=_log,
        )
    return 0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
