import subprocess
import sys

from ncconsole import __version__


def test_version_via_python_m():
    out = subprocess.run(
        [sys.executable, "-m", "ncconsole", "--version"], capture_output=True, text=True, check=True
    )
    assert __version__ in out.stdout


def test_bad_config_file_is_one_line_error(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("labels:\n  wave: [unclosed\n")
    out = subprocess.run(
        [sys.executable, "-m", "ncconsole", "tenants"],
        capture_output=True,
        text=True,
        env={"NCCONSOLE_CONFIG": str(bad), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert str(bad) in out.stderr
