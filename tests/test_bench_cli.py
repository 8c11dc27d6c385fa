"""The benchmark's command line: each sub-command keeps its own default organisation."""

import pytest

from bench.__main__ import _parser


@pytest.mark.parametrize(
    ("argv", "org"),
    [
        (["seed"], "bench"),
        (["run"], "bench"),
        (["verify"], "bench"),
        (["all"], "bench"),
        (["pack-build", "--out", "x.zip"], "bench"),
        (["pack"], "bench-pack"),
        (["api"], "bench"),
    ],
)
def test_each_sub_command_has_its_own_default_organisation(argv, org):
    assert _parser().parse_args(argv).org == org


def test_parsing_pack_first_does_not_move_seed_into_the_pack_organisation():
    parser = _parser()
    assert parser.parse_args(["pack"]).org == "bench-pack"
    assert parser.parse_args(["seed"]).org == "bench"


def test_an_explicit_org_wins_everywhere():
    parser = _parser()
    assert parser.parse_args(["pack", "--org", "x"]).org == "x"
    assert parser.parse_args(["seed", "--org", "y"]).org == "y"


def test_api_takes_its_load_options():
    args = _parser().parse_args(["api", "--requests", "100", "--concurrency", "2"])
    assert (args.requests, args.concurrency, args.workers, args.batches) == (100, 2, 4, 20)
