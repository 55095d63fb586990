import pytest


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path, monkeypatch):
    """The user's own ncconsole config and NCCONSOLE_* variables must not leak into tests."""
    import os

    for key in list(os.environ):
        if key.startswith("NCCONSOLE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
