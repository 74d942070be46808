"""The fit's prior on how often the alliance answers: a reference class for the response rule.

The record holds few answers to learn the response rule from (2002-2014: one request, one
refusal), and a uniform prior over the rule's terms is not neutral about the answer: over
the committed ranges the alliance would answer its members' typical threats with a median
chance of about 0.77, above every reference rate of alliance reliability. The prior of the
fit therefore takes the answer chance from outside evidence
(:class:`csto_sim.inference.priors.ReferencePrior`): the chance follows a Beta law whose
mean and strength are registry judgements (``answer_prior.mean``, ``answer_prior.strength``,
with their sources), and the rule's terms are otherwise uniform over their ranges.

*The answer chance* of a parameter vector is the alliance's expected chance of answering
the threats its members typically face (:func:`csto_sim.core.decisions.expected_chance`:
each kind's mean severity and usual counterpart, weighted by the member's hazards), at the
start of the record (2002), averaged over the members then active other than the leader.
It is read with the vector's parameters and the registry's value of every judgement (a
judgement the fit estimates, such as an adversary's affinity, enters at its registry value).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from csto_sim.core import decisions, judgements
from csto_sim.core.inputs import compile_inputs, initial_state
from csto_sim.core.vocabulary import ACTIVE
from csto_sim.inference.priors import ReferencePrior, beta_of

MEAN, STRENGTH = "answer_prior.mean", "answer_prior.strength"
"""The registry's judgements of the reference class: the answer chance's mean and how many
cases the prior is worth."""


class AnswerChance:
    """The answer chance of parameter vectors ``(n, d)`` whose columns are ``names``, in the
    scenario ``spec`` at its start (picklable: the inputs are compiled on first use)."""

    def __init__(self, spec, names: tuple[str, ...]):
        self.spec, self.names = spec, names

    @functools.cached_property
    def _start(self):
        inp, state = compile_inputs(self.spec), initial_state(self.spec)
        asked = (state.status == ACTIVE) & (np.arange(len(inp.members)) != inp.leader)
        return inp, state, asked

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [self._chance(theta[i : i + 10_000]) for i in range(0, len(theta), 10_000)]
        )

    def _chance(self, theta: np.ndarray) -> np.ndarray:
        inp, state, asked = self._start
        n = len(theta)
        params = dict(inp.params)
        for j, name in enumerate(self.names):
            if name in params:  # judgements (``@ID``) keep their registry values
                params[name] = theta[:, j]
        given = dataclasses.replace(inp, params=params)
        w = np.broadcast_to(state.w, (n, *state.w.shape))
        status = np.broadcast_to(state.status, (n, *state.status.shape))
        return decisions.expected_chance(given, 0, status, w)[:, asked].mean(axis=1)


def answer_prior(spec, ranges: dict[str, tuple[float, float]]) -> ReferencePrior:
    """The fit's prior over ``ranges`` for the hindcast ``spec``: uniform, with the answer
    chance following the reference class's Beta law."""
    a, b = beta_of(judgements.value(MEAN), judgements.value(STRENGTH))
    return ReferencePrior(ranges, AnswerChance(spec, tuple(ranges)), a, b)


__all__ = ["MEAN", "STRENGTH", "AnswerChance", "answer_prior"]
