"""``csto-sim dashboard`` before the server starts: a bad or busy port or an unknown host
fails at once with one line and exit 2; a good one starts solara with the chosen address.
(The page itself: tests/viz/test_app.py, and in a browser tests/viz/test_dashboard_browser.py.)"""

from __future__ import annotations

import socket

import pytest

from csto_sim.cli import dashboard, main
from csto_sim.viz.draws import FIRST_DRAW_ENV


@pytest.fixture
def started(monkeypatch):
    """The commands and environments the dashboard would start (solara is not started, and
    the first page's filter is not run: its file is recorded)."""
    calls: list[tuple[list[str], dict[str, str]]] = []
    waited: list[bool] = []

    class Server:
        def __init__(self, cmd, env=None, **_):
            calls.append((cmd, env))

        def wait(self, timeout=None):
            waited.append(True)
            return 0

    Server.waited = waited
    monkeypatch.setattr(dashboard.subprocess, "Popen", Server)
    monkeypatch.setattr(dashboard, "make_first_draw", lambda path: calls.append(path))
    return calls


def _free_port() -> int:
    with socket.create_server(("localhost", 0)) as s:
        return s.getsockname()[1]


@pytest.mark.parametrize("port", ["99999", "65536", "0", "-1", "80.5", "abc"])
def test_port_out_of_range_or_not_a_number_fails_at_once(port, started, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["dashboard", "--port", port])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--port" in err
    assert not started


def test_port_in_use_fails_at_once(started, capsys):
    with socket.create_server(("localhost", 0)) as busy:
        port = busy.getsockname()[1]
        assert main(["dashboard", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err]
    assert f"--port {port}" in err and "in use" in err
    assert not started


def test_unknown_or_foreign_host_fails_naming_host(started, capsys):
    assert main(["dashboard", "--host", "no-such-host.invalid", "--port", "8765"]) == 2
    assert main(["dashboard", "--host", "192.0.2.1", "--port", str(_free_port())]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all("--host" in line for line in lines)
    assert "no-such-host.invalid" in lines[0] and "192.0.2.1" in lines[1]
    assert not started


def test_free_port_starts_solara_there_without_telemetry(started, monkeypatch, capsys):
    monkeypatch.delenv("SOLARA_TELEMETRY_MIXPANEL_ENABLE", raising=False)
    port = _free_port()
    assert main(["dashboard", "--port", str(port)]) == 0
    [(cmd, env), handover] = started
    assert cmd[1:4] == ["-m", "solara", "run"] and cmd[4].endswith("app.py")
    assert cmd[-4:] == ["--host", "localhost", "--port", str(port)]
    assert "--production" in cmd  # no file watchers: they use up the machine's inotify instances
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert capsys.readouterr().err == ""  # the assets are installed (viz extra)


def test_user_settings_win_over_defaults(started, monkeypatch):
    monkeypatch.setenv("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "True")
    assert main(["dashboard", "--port", str(_free_port())]) == 0
    assert started[0][1]["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "True"


def test_missing_assets_warn_and_missing_solara_fails(started, monkeypatch, capsys):
    monkeypatch.setattr(dashboard, "installed", lambda module: module != "solara_assets")
    assert main(["dashboard", "--port", str(_free_port())]) == 0
    assert "solara-assets is not installed" in capsys.readouterr().err
    monkeypatch.setattr(dashboard, "installed", lambda module: False)
    assert main(["dashboard", "--port", str(_free_port())]) == 2
    assert "solara is not installed" in capsys.readouterr().err
    assert len(started) == 2  # one server, one first draw


def test_the_first_draw_is_made_beside_the_server_and_handed_to_it(started):
    assert main(["dashboard", "--port", str(_free_port())]) == 0
    [(_, env), handover] = started
    assert env[FIRST_DRAW_ENV] == str(handover)  # the file the server takes the filter from
    assert not handover.parent.exists()  # a temporary folder, removed when the server ends


def test_an_interrupt_during_the_first_draw_waits_for_the_server_and_exits_130(
    started, monkeypatch
):
    def interrupted(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(dashboard, "make_first_draw", interrupted)
    assert main(["dashboard", "--port", str(_free_port())]) == 130
    assert len(started) == 1  # the server was started
    assert dashboard.subprocess.Popen.waited == [True]  # and waited for


@pytest.mark.parametrize(("signal", "code"), [("terminated", 143), ("interrupted", 130)])
def test_an_interrupt_ends_the_server(monkeypatch, capsys, signal, code):
    """SIGTERM reaches only the command, so it is passed on to the server; Ctrl-C reached
    the server too, which is waited for; either way the server ends and the command says so."""
    from csto_sim.experiments.executors import Terminated

    ended: list[str] = []

    class Server:
        def __init__(self, *_, **__):
            self.waits = 0

        def wait(self, timeout=None):
            self.waits += 1
            if self.waits == 1:  # the signal arrives while the command waits on the server
                raise Terminated() if signal == "terminated" else KeyboardInterrupt()
            ended.append("waited")
            return -15

        def terminate(self):
            ended.append("terminate")

        def kill(self):
            ended.append("kill")

    monkeypatch.setattr(dashboard.subprocess, "Popen", Server)
    monkeypatch.setattr(dashboard, "make_first_draw", lambda path: None)
    assert main(["dashboard", "--port", str(_free_port())]) == code
    assert ended == (["terminate", "waited"] if signal == "terminated" else ["waited"])
    assert capsys.readouterr().err.strip().endswith(signal)
