import pytest

from ncconsole.kube.connection import KubeConfigError, connect
from ncconsole.settings import Settings

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: sim
clusters:
- name: sim
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
- name: other
  cluster: {server: "https://10.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: not-a-real-token}
contexts:
- name: sim
  context: {cluster: sim, user: admin}
- name: prod
  context: {cluster: other, user: admin}
"""


@pytest.fixture(autouse=True)
def _no_ambient_kubeconfig(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def _settings(**kwargs):
    return Settings(**kwargs)


def test_current_context_by_default_and_named_context(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    conn = connect(_settings(kubeconfig=path))
    assert (conn.context, conn.cluster) == ("sim", "https://127.0.0.1:6443")
    conn = connect(_settings(kubeconfig=path, context="prod"))
    assert (conn.context, conn.cluster) == ("prod", "https://10.0.0.1:6443")


def test_kubeconfig_env_variable_is_used(tmp_path, monkeypatch):
    path = tmp_path / "kc"
    path.write_text(KUBECONFIG)
    monkeypatch.setenv("KUBECONFIG", str(path))
    assert connect(_settings()).context == "sim"


def test_unknown_context_names_the_known_ones(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    with pytest.raises(KubeConfigError) as err:
        connect(_settings(kubeconfig=path, context="staging"))
    message = str(err.value)
    assert "'staging' not found" in message and "sim, prod" in message
    assert "\n" not in message


def test_missing_and_malformed_kubeconfig_are_one_line_errors(tmp_path):
    with pytest.raises(KubeConfigError, match="kubeconfig not found"):
        connect(_settings(kubeconfig=tmp_path / "nope"))
    bad = tmp_path / "bad"
    bad.write_text("clusters: [unclosed\n")
    with pytest.raises(KubeConfigError, match="malformed kubeconfig") as err:
        connect(_settings(kubeconfig=bad))
    assert "\n" not in str(err.value)


def test_default_location_is_home_kube_config(tmp_path):
    with pytest.raises(KubeConfigError, match=r"~/.kube/config: kubeconfig not found"):
        connect(_settings())
