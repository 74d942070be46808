"""``csto-sim check``: validate scenario files without running them."""

from __future__ import annotations

import argparse

from csto_sim.analysis.statistics import check_targets
from csto_sim.cli.common import EXIT_OK, scenario_files
from csto_sim.core.scenario import load_scenario
from csto_sim.inference.posterior import choose_posterior


def add_parser(sub) -> None:
    p = sub.add_parser(
        "check",
        help="validate scenario files without running them",
        description="Load and validate each SCENARIO (with its extends chain, its history and "
        "the posterior file it names); exit 2 at the first problem.",
    )
    scenario_files(p)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    for path in args.scenarios:
        s = load_scenario(path)
        choose_posterior([s])  # the posterior file it names, read and checked
        check_targets(s)  # outcomes the report compares
        print(
            f"{path}: ok ({s.name}: {len(s.members)} members, {s.time.start:g}-{s.time.end:g}, "
            f"{len(s.events)} scripted events)"
        )
    return EXIT_OK
