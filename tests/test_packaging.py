"""environment.yml and pyproject.toml must install the same things; constraints pin them all."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.split(r"[<>=\[ ;]", name.strip())[0].lower().replace("_", "-")


def pyproject_deps() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    deps = set(map(_norm, data["project"]["dependencies"]))
    for extra in data["project"]["optional-dependencies"].values():
        deps |= set(map(_norm, extra))
    return deps


def environment_deps() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return {_norm(p) for p in pip if not p.startswith("-")}


def test_environment_matches_pyproject():
    assert environment_deps() == pyproject_deps()


def test_environment_installs_package_editable_with_constraints():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-c constraints.txt" in pip
    assert any(p.startswith("-e .") for p in pip)


def test_every_dependency_is_pinned():
    pinned = {_norm(l) for l in (ROOT / "constraints.txt").read_text().splitlines() if "==" in l}
    missing = pyproject_deps() - pinned
    assert not missing, f"add pins for {missing} to constraints.txt"


def test_ci_calls_make_test():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
