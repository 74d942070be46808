"""What two triggered membership rules would keep of the hindcast's status changes, as numbers.

Usage::

    python docs/checks/membership_triggers.py [--runs 1000] [--seed 2002]

Runs the 2002-2024 hindcast over the validation posterior (the runs of ``csto-sim validate``
with the same seed, batched engine, in this process) and, for every simulated status change
of a member other than the leader, asks whether it had a reason under two rules proposed for
gate 4a (section "What the model still gets wrong" of ``docs/calibration.md``):

1. **grievance or alternatives**: the member's ``grievance`` or ``alternatives`` (help
   received from other poles) exceeded ``--reason`` the step before;
2. **a change in what membership is worth**: the net utility of stepping back from its status
   (the alliance's value plus half the exit cost, the step's own
   :func:`csto_sim.core.rules.membership_utilities` inputs, recorded as the step computes
   them) moved by more than ``--change`` logits since the member's last status change (or
   since it joined).

Prints, per member and period (fitted 2002-2014, held out 2015-2024), the status changes per
run and the share of them each rule would keep. No rule is built; this measures one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from csto_sim.core import rules  # noqa: E402
from csto_sim.experiments.ensemble import CHUNK, run_ensemble  # noqa: E402

HINDCAST = ROOT / "scenarios" / "hindcast_2002_2024.toml"


def simulate(runs: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The timeseries and the net utility of stepping back ``(runs, steps, members)``."""
    seen: list[np.ndarray] = []
    original = rules.membership_utilities

    def recording(value: np.ndarray, cost: np.ndarray) -> np.ndarray:
        seen.append(np.asarray(value + 0.5 * cost, dtype=float).copy())
        return original(value, cost)

    rules.membership_utilities = recording  # the step calls it through the module
    try:
        result = run_ensemble(
            [HINDCAST], runs, seed=seed, workers=1, tables=("runs", "timeseries"), progress=False
        )
    finally:
        rules.membership_utilities = original
    chunks = -(-runs // CHUNK)
    steps = len(seen) // chunks
    # chunks run in order in this process, each (steps) calls of (runs in chunk, members)
    utility = np.concatenate(
        [np.stack(seen[k * steps : (k + 1) * steps], axis=1) for k in range(chunks)]
    )
    return result.read("timeseries"), utility


def changes(ts: pd.DataFrame, utility: np.ndarray, reason: float) -> pd.DataFrame:
    """Every status change of a non-leader: member, year, |utility moved since the last
    change or accession|, and whether grievance or alternatives exceeded ``reason``."""
    members = list(ts[(ts.run == ts.run.min()) & (ts.step == 0)].member)
    wide = ts.sort_values(["run", "step"]).set_index(["run", "step", "member"])
    runs, steps = ts.run.nunique(), ts.step.nunique()

    def field(name: str) -> np.ndarray:
        return wide[name].unstack("member")[members].to_numpy().reshape(runs, steps, -1)

    status, griev, alt = field("status"), field("grievance"), field("alternatives")
    years = np.sort(ts.year.unique())
    rows = []
    for r, m in np.ndindex(runs, len(members)):
        if m == 0:  # the leader never reconsiders
            continue
        anchor = None
        for t in range(1, steps):
            u = utility[r, t - 1, m]  # computed in step t, before the status of step t
            if anchor is None and status[r, t - 1, m] != "non_member":
                anchor = u
            if status[r, t, m] == status[r, t - 1, m]:
                continue
            if status[r, t - 1, m] != "non_member":
                why = max(griev[r, t - 1, m], alt[r, t - 1, m]) > reason
                rows.append((members[m], years[t], abs(u - anchor), why))
            anchor = u
    return pd.DataFrame(rows, columns=["member", "year", "moved", "reason"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2002)
    ap.add_argument("--reason", type=float, default=0.1)
    ap.add_argument("--change", type=float, default=1.0)
    args = ap.parse_args()
    ts, utility = simulate(args.runs, args.seed)
    found = changes(ts, utility, args.reason)
    found["period"] = np.where(found.year < 2015, "2002-2014", "2015-2024")
    found["changed"] = found.moved > args.change
    table = found.groupby(["member", "period"]).agg(
        per_run=("year", lambda s: len(s) / args.runs),
        kept_by_reason=("reason", "mean"),
        kept_by_change=("changed", "mean"),
        median_moved=("moved", "median"),
    )
    print(
        f"{args.runs} runs, seed {args.seed}, validation posterior; a reason: grievance or "
        f"alternatives > {args.reason}; a change: utility moved > {args.change} logits"
    )
    print(table.round(2).to_string())


if __name__ == "__main__":
    main()
