#!/usr/bin/env python3
"""Check that requirements/lock.txt pins every dependency of pyproject.toml (runtime and
dev) at a version its specifier allows; `make install` runs it so a dependency added to
pyproject.toml without `make lock` stops the install with that advice.

    .venv/bin/python scripts/check_lock.py [pyproject.toml] [requirements/lock.txt]

Exit 0 when the lock is complete, 1 (with one line per problem) when it is not.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#\\]+)")


def pins(lock_text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lock_text.splitlines():
        match = PIN.match(line.strip())
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def problems(pyproject_text: str, lock_text: str) -> list[str]:
    project = tomllib.loads(pyproject_text)["project"]
    wanted = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        wanted += extra
    pinned = pins(lock_text)
    out = []
    for spec in wanted:
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate({"extra": "dev"}):
            continue
        name = canonicalize_name(req.name)
        if name not in pinned:
            out.append(f"{req.name} is not pinned")
            continue
        if not req.specifier.contains(pinned[name], prereleases=True):
            out.append(f"{req.name}=={pinned[name]} does not satisfy {req.specifier}")
    return out


def main(argv: list[str]) -> int:
    pyproject = Path(argv[0]) if argv else ROOT / "pyproject.toml"
    lock = Path(argv[1]) if len(argv) > 1 else ROOT / "requirements" / "lock.txt"
    if not lock.is_file():
        print(f"error: {lock} is missing: run 'make lock'.", file=sys.stderr)
        return 1
    found = problems(pyproject.read_text(), lock.read_text())
    for line in found:
        print(f"error: {lock.name}: {line}", file=sys.stderr)
    if found:
        print(
            f"error: {lock} does not match {pyproject.name}: run 'make lock' and commit the lock.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
