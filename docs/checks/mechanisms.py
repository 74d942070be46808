"""Checks of the membership, alignment and projection mechanisms (issue 12), as numbers.

Usage::

    python docs/checks/mechanisms.py [--runs 500]

Prints, from the bundled scenarios run with the batched engine (run r of every projection
continues run r of the hindcast, so scenarios are paired run by run):

1. for each projection, the share of runs in which each membership transition happens at
   least once (active->frozen, frozen->withdrawn, frozen->active, withdrawn->active), and
   whether the leader ever changes status;
2. ``armenia_eu_path`` minus ``baseline``: Armenia's status in 2040 and its security and
   economic weight on the EU, as paired differences with 95% intervals (dice only: the
   parameters are the defaults);
3. ``russia_weakened`` with the judged fall of Russia's pull on Kazakhstan moved as if the
   earlier judged offer (0.4 in 2035) were 0.35 or 0.45: Kazakhstan's exit probability and
   the largest step-to-step change of the median cohesion;
4. the hindcast: China's economic and security pull (target share) on each member in 2002
   and 2014, and the leader's own weight on its pole.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csto_sim import load_scenario  # noqa: E402
from csto_sim.core import metrics  # noqa: E402
from csto_sim.core.batch import history_seeds, run_batch  # noqa: E402
from csto_sim.core.inputs import compile_inputs  # noqa: E402
from csto_sim.core.randomness import run_seed  # noqa: E402
from csto_sim.core.rules import pole_target  # noqa: E402
from csto_sim.core.vocabulary import ACTIVE, FROZEN, WITHDRAWN  # noqa: E402

SCENARIOS = ROOT / "scenarios"
PROJECTIONS = (
    "baseline",
    "armenia_eu_path",
    "russia_weakened",
    "russia_strengthened",
    "china_security_role",
    "afghan_spillover",
)
TRANSITIONS = {
    "active->frozen": (ACTIVE, FROZEN),
    "frozen->withdrawn": (FROZEN, WITHDRAWN),
    "frozen->active": (FROZEN, ACTIVE),
    "withdrawn->active": (WITHDRAWN, ACTIVE),
    "active->withdrawn": (ACTIVE, WITHDRAWN),
}


def simulate(scenario, runs: int):
    seeds = [run_seed(scenario.seed, r) for r in range(runs)]
    return run_batch(scenario, seeds, history_seeds(scenario, range(runs)))


def transitions(runs: int) -> None:
    print(f"1. Membership transitions in the projections ({runs} runs each; share of runs)")
    best = dict.fromkeys(TRANSITIONS, 0.0)
    for name in PROJECTIONS:
        inp, h, _ = simulate(load_scenario(SCENARIOS / f"{name}.toml"), runs)
        before, after = h.status[:, :-1], h.status[:, 1:]
        shares = {}
        for label, (a, b) in TRANSITIONS.items():
            happened = ((before == a) & (after == b)).any(axis=(1, 2))
            shares[label] = float(happened.mean())
            best[label] = max(best[label], shares[label])
        leader_moves = bool((h.status[:, :, inp.leader] != h.status[:, :1, inp.leader]).any())
        cells = "  ".join(f"{k} {v:5.1%}" for k, v in shares.items())
        print(f"  {name:<20} {cells}  leader changes: {leader_moves}")
    print("  most frequent over scenarios: " + ", ".join(f"{k} {v:.1%}" for k, v in best.items()))


def paired(x: np.ndarray) -> str:
    mean, se = float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x)))
    return f"{mean:+.3f} [{mean - 1.96 * se:+.3f}, {mean + 1.96 * se:+.3f}]"


def armenia(runs: int) -> None:
    print(f"\n2. armenia_eu_path minus baseline, Armenia in 2040 ({runs} paired runs, dice only)")
    out = {}
    for name in ("baseline", "armenia_eu_path"):
        inp, h, _ = simulate(load_scenario(SCENARIOS / f"{name}.toml"), runs)
        i, eu = inp.members.index("Armenia"), inp.poles.index("EU")
        out[name] = (h.status[:, -1, i], h.w[:, -1, i, eu], h.e[:, -1, i, eu])
    base, path = out["baseline"], out["armenia_eu_path"]
    for label, code in (("active", ACTIVE), ("frozen", FROZEN), ("withdrawn", WITHDRAWN)):
        d = (path[0] == code).astype(float) - (base[0] == code).astype(float)
        print(
            f"  P({label:<9}) {(base[0] == code).mean():5.1%} -> {(path[0] == code).mean():5.1%}  difference {paired(d)}"
        )
    print(f"  security weight on the EU: difference {paired(path[1] - base[1])}")
    print(f"  economic weight on the EU: difference {paired(path[2] - base[2])}")


def weakened(runs: int) -> None:
    print(
        f"\n3. russia_weakened: the judged offer to Kazakhstan (0.4 in 2035) moved by 0.05 ({runs} runs)"
    )
    spec = load_scenario(SCENARIOS / "russia_weakened.toml")
    for offer in (0.35, 0.4, 0.45):
        change = round(math.log(offer / 0.6), 3)
        events = {
            k: (
                e.model_copy(update={"pull_change": change})
                if "kazakhstan" in k and e.kind == "pole_shift"
                else e
            )
            for k, e in spec.events.items()
        }
        variant = spec.model_copy(update={"events": events})
        inp, h, _ = simulate(variant, runs)
        i = inp.members.index("Kazakhstan")
        out = (h.status[:, -1, i] != ACTIVE).mean()
        coh = metrics.cohesion(h.w, h.status, inp.leader, inp.leader_pole)
        median = np.median(coh, axis=0)
        jump = float(np.abs(np.diff(median)).max())
        print(
            f"  offer {offer:.2f} (pull change {change:+.3f}): Kazakhstan out in 2040 {out:5.1%}; largest step in median cohesion {jump:.3f}"
        )


def hindcast_pull() -> None:
    print(
        "\n4. The hindcast: China's pull (target share) on each member, and the leader's alignment"
    )
    inp = compile_inputs(load_scenario(SCENARIOS / "hindcast_2002_2024.toml"))
    china = inp.poles.index("China")
    t14 = int(np.searchsorted(inp.years, 2014.0))
    for i, m in enumerate(inp.members):
        e0 = pole_target(inp.economic_strength[0], inp.economic_offers[0, i], inp.initial.e[i])[
            china
        ]
        e14 = pole_target(
            inp.economic_strength[t14], inp.economic_offers[t14, i], inp.initial.e[i]
        )[china]
        s0 = pole_target(inp.strength[0], inp.offers[0, i], inp.initial.w[i])[china]
        s14 = pole_target(inp.strength[t14], inp.offers[t14, i], inp.initial.w[i])[china]
        print(
            f"  {m:<11} economic {e0:.3f} -> {e14:.3f} ({e14 - e0:+.3f})   security {s0:.3f} -> {s14:.3f} ({s14 - s0:+.3f})"
        )
    spec = load_scenario(SCENARIOS / "hindcast_2002_2024.toml")
    _, h, _ = run_batch(spec, [run_seed(spec.seed, r) for r in range(100)])
    leader = inp.leader
    print(
        f"  the leader's weight on its own pole: min {h.w[:, :, leader, inp.leader_pole].min():.3f} over 100 runs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    transitions(args.runs)
    armenia(args.runs)
    weakened(args.runs)
    hindcast_pull()


if __name__ == "__main__":
    main()
