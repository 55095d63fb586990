"""The simulator is the demo: it must survive what users do to it (issue 18, class 10) - a
commit after an Application was deleted, a start that fails on a port in use, an empty
--workdir."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from ncconsole.cli import main
from ncconsole.sim.apiserver.resources import APPLICATIONS
from ncconsole.sim.simulator import Simulator
from tests.sim.sim_helpers import scenario, wait_until

pytestmark = pytest.mark.timeout(90)
TENANTS = [{"name": "canary", "wave": 0}, {"name": "alpha", "wave": 1}]


def app_of(sim: Simulator, tenant: str) -> dict | None:
    return sim.call(sim.store.try_get, APPLICATIONS, "argocd", f"nc-{tenant}")


def test_a_commit_after_an_application_was_deleted_is_noticed(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    with Simulator(scenario(TENANTS), workdir=tmp_path / "sim") as sim:
        sim.call(sim.store.delete, APPLICATIONS, "argocd", "nc-alpha")
        head = sim.commit("touch the repo", {"docs/note.md": "a change\n"})
        # Argo CD notices the commit: the ApplicationSet recreates alpha's Application and
        # every Application compares with the new HEAD.
        wait_until(lambda: app_of(sim, "alpha") is not None, timeout=30, what="alpha recreated")
        wait_until(
            lambda: all(
                (app_of(sim, t) or {}).get("status", {}).get("sync", {}).get("comparedTo")
                is not None
                and sim.argocd is not None and sim.argocd.head == head
                for t in ("canary", "alpha")
            ),
            timeout=30, what="the commit compared",
        )  # fmt: skip
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert "BucketAlreadyExists" not in caplog.text


def test_a_start_that_fails_on_a_port_in_use_leaves_no_half_written_workdir(
    tmp_path: Path, capsys
) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    workdir = tmp_path / "w"
    try:
        with pytest.raises(SystemExit) as caught:
            main(["sim", "--workdir", str(workdir), "--tenants", "1", "--port", str(port)])
        assert caught.value.code == 2
        assert "is in use" in capsys.readouterr().err
        assert not (workdir / "platform").exists() and not (workdir / "kubeconfig").exists()
    finally:
        taken.close()
    # ...so the next start in the same directory works.
    with Simulator(scenario(TENANTS[:1]), workdir=workdir):
        assert (workdir / "kubeconfig").exists()


@pytest.mark.parametrize("workdir", ["", "   "])
def test_an_empty_workdir_is_refused_not_taken_as_the_current_directory(
    workdir: str, capsys, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as caught:
        main(["sim", "--workdir", workdir, "--tenants", "1"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--workdir" in err and "empty" in err, err
    assert list(tmp_path.iterdir()) == []  # nothing written to the current directory
