"""Every command's ``--help`` states the default of every option that takes a value."""

from __future__ import annotations

import argparse

import pytest

from csto_sim.cli import COMMANDS, build_parser, main


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _valued(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Options that take a value (not flags, not --help); --out is described where the
    default folders are made (cli/common.py)."""
    flags = (argparse._HelpAction, argparse._StoreTrueAction, argparse._StoreFalseAction)
    return [
        a
        for a in parser._actions
        if not isinstance(a, flags) and (a.option_strings or a.nargs == "?") and a.dest != "out"
    ]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_states_every_default(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: csto-sim {command}")
    for action in _valued(_subparsers()[command]):
        text = action.help or ""
        name = action.option_strings[0] if action.option_strings else action.dest
        assert "default" in text, f"{command} {name}: no default in {text!r}"
        if isinstance(action.default, int | float | str) and not isinstance(action.default, bool):
            assert f"default {action.default}" in text, f"{command} {name}: {text!r}"


def test_every_command_is_registered_once():
    assert set(_subparsers()) == {
        "run", "compare", "validate", "plot", "sensitivity", "calibrate", "posterior",
        "discover", "dashboard", "check", "show", "params", "forecast", "score", "swing",
    }  # fmt: skip


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_shows_percent_signs_as_written(command):
    """A description is printed as written (only option help is %-formatted): ``5%%`` in
    one showed doubled."""
    text = _subparsers()[command].format_help()
    assert "%%" not in text
