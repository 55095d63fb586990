"""A server that is not a Kubernetes API server (a web server, a login page, a mock answering
`{}` to everything) is named as such, and nothing it says reads as the fleet's state: no
"healthy" tenant, no "● live" (kube/connection.py: check_identity, get_list; the heartbeat
and the watch check their answers too)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ncconsole.cli import cli
from ncconsole.cli.options import run_guarded
from ncconsole.fleet.model import Health
from ncconsole.fleet.state import FleetState, FleetTimeout
from ncconsole.kube.connection import NotKubernetes, check_identity, connect
from ncconsole.settings import Settings
from tests.gitops.repo_builder import tenant_yaml, write_repo

pytestmark = pytest.mark.timeout(60)

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: x
  cluster: {{server: "{url}"}}
users:
- name: u
  user: {{token: abc}}
contexts:
- name: x
  context: {{cluster: x, user: u}}
current-context: x
"""

ANSWERS = {
    # every GET answers 200 {} (a mock server, a JSON echo)
    "json": (200, "application/json", lambda path: "{}"),
    # a web page (a proxy's login page)
    "html": (200, "text/html", lambda path: "<html><body>Sign in</body></html>"),
    # a plain web server: 404 pages
    "404": (404, "text/html", lambda path: "<h1>Not Found</h1>"),
    # says it is Kubernetes on /version but answers every list with {}
    "version-only": (
        200,
        "application/json",
        lambda path: json.dumps(
            {"gitVersion": "v1.31.0", "major": "1"} if path == "/version" else {}
        ),
    ),
}


@pytest.fixture(params=list(ANSWERS))
def impostor(request, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    status, content_type, body = ANSWERS[request.param]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = body(self.path.split("?")[0]).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG.format(url=url))
    try:
        yield request.param, kubeconfig
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("NCCONSOLE_CONFIG", raising=False)
    return write_repo(
        tmp_path / "repo",
        {f"tenant-{n}.yaml": tenant_yaml(n, wave=f'"{w}"') for n, w in (("a", 0), ("b", 1))},
    )


def test_the_identity_check_names_the_server(impostor) -> None:
    kind, kubeconfig = impostor
    conn = connect(Settings(kubeconfig=kubeconfig))
    if kind == "version-only":
        check_identity(conn)  # passes /version; its lists give it away below
        with pytest.raises(NotKubernetes, match="answered no list of items"):
            conn.get_list("/api/v1/pods")
        return
    with pytest.raises(NotKubernetes) as caught:
        check_identity(conn)
    assert str(caught.value).startswith(f"not a Kubernetes API server at {conn.cluster} (")


def test_status_exits_2_naming_the_server_never_a_healthy_table(impostor, repo, capsys) -> None:
    _, kubeconfig = impostor
    code = run_guarded(cli, ["status", "--kubeconfig", str(kubeconfig), "--repo", str(repo)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and "not a Kubernetes API server at http://127.0.0.1:" in lines[0]


def test_actions_refuse_before_asking_anything(impostor, repo, capsys) -> None:
    _kind, kubeconfig = impostor
    args = ["occ", "a", "--kubeconfig", str(kubeconfig), "--repo", str(repo), "--", "status"]
    assert run_guarded(cli, args) == 2
    err = capsys.readouterr().err
    assert "not a Kubernetes API server at" in err, err


def test_the_live_fleet_never_calls_anything_healthy_or_live(impostor, repo) -> None:
    _, kubeconfig = impostor
    fleet = FleetState(Settings(kubeconfig=kubeconfig, repo=repo), probes=False)
    fleet.start()
    try:
        with pytest.raises(FleetTimeout) as caught:
            fleet.wait_for(lambda s: s.complete, 3)
        snapshot = fleet.wait_for(lambda s: not s.api_reachable, 10)
    finally:
        fleet.stop()
    assert not caught.value.snapshot.complete
    assert "not a Kubernetes API server at" in snapshot.api_error
    assert all(t.health is not Health.HEALTHY for t in snapshot.tenants)
