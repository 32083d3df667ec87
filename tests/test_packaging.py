"""The shipped studies and spaces are package data: a wheel installed away from the checkout
runs ``automl run digits_mlp`` by name and finds the default search space."""

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _build_wheel(tmp_path: Path) -> Path:
    """Build the wheel from a copy of the sources (the checkout gets no build/ folder)."""
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("automl", "studies", "search_spaces"):
        shutil.copytree(REPO / name, src / name, symlinks=True, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    out = tmp_path / "wheel"
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)]
    errors = []
    # Offline first, with this environment's setuptools; else in pip's isolated build env.
    for extra in (["--no-build-isolation"], []):
        done = subprocess.run(pip + extra, capture_output=True, text=True, timeout=600)
        wheels = list(out.glob("automl-*.whl"))
        if done.returncode == 0 and wheels:
            return wheels[0]
        errors.append(done.stderr.strip().splitlines()[-1:] or ["?"])
    pytest.skip(f"cannot build a wheel here: {errors}")


def test_an_installed_wheel_runs_the_shipped_study_by_name(tmp_path):
    wheel = _build_wheel(tmp_path)
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()
    # The dependencies come from this environment (a plain path: its .pth files, such as an
    # editable automl, are not run), automl itself from the wheel.
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-build-isolation", str(wheel)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [python, "-c", textwrap.dedent("""
            import automl
            from automl.search import load_spec
            print(automl.__file__)
            print(load_spec({"dataset": "iris"}).space.source)
        """)], cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout
    installed, space = where.split()
    assert Path(installed).is_relative_to(purelib), installed
    assert Path(space).is_relative_to(purelib) and space.endswith("search_spaces/mlp.yaml")
    automl_cmd = env_dir / "bin" / "automl"
    done = subprocess.run(
        [automl_cmd, "run", "digits_mlp", "--n-trials", "1", "--epochs", "1", "--n-jobs", "1",
         "--output", "out", "--no-report"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Study 'digits_mlp': 1 trials" in done.stdout
    assert (elsewhere / "out" / "best_model.automl").is_file()
