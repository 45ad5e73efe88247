"""A new app is covered by the import contracts the day it appears, not when someone remembers."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Above every layer by design: the roof wires the apps together, the demo seeds them.
ABOVE_THE_LAYERS = {"lms", "demo"}


def _apps_in_repo() -> set[str]:
    return {
        path.parent.name
        for pattern in ("*/apps.py", "*/models.py")
        for path in ROOT.glob(pattern)
        if (path.parent / "__init__.py").is_file()
    }


def _importlinter() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_every_app_in_the_repo_is_a_root_package_of_import_linter():
    missing = _apps_in_repo() - set(_importlinter()["root_packages"])
    assert not missing, f"add {sorted(missing)} to [tool.importlinter] root_packages"


def test_every_app_below_the_roof_has_a_place_in_the_layers_contract():
    layers = next(c for c in _importlinter()["contracts"] if c["type"] == "layers")["layers"]
    missing = _apps_in_repo() - ABOVE_THE_LAYERS - set(layers)
    assert not missing, f"give {sorted(missing)} a layer in the layers contract of pyproject.toml"


def test_nothing_may_import_the_demo():
    contract = next(c for c in _importlinter()["contracts"] if c.get("forbidden_modules") == ["demo"])
    missing = set(_importlinter()["root_packages"]) - {"demo"} - set(contract["source_modules"])
    assert not missing, f"forbid {sorted(missing)} from importing demo"
