"""The architecture, checked: which parts of syndicate may import which (DESIGN's diagram).

    faces    cli/ run/ web/ demo/   the command line, the daemon and workers, the web app
    meeting  pipeline, people       where the stages meet; every change of a subscriber
    stages   sources/ feeds/ digest/ deliver/
    store    store/                 the one source of truth
    project  project/               settings, schedules, slots, the secret key, the starter
    data     models, errors, urls, tokens

A face calls the pipeline, people, the project and the store's front (syndicate.store),
never a stage or a store module directly; a stage never imports a face or the pipeline;
the store imports no stage; the project and the data import nothing above them; and
nothing but the CLI imports demo/. Imports are read from the source (ast), so a lazy
import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

PACKAGE = Path(__file__).resolve().parents[1] / "syndicate"

FACES = ("cli", "run", "web", "demo")
MEETING = ("pipeline", "people")
STAGES = ("sources", "feeds", "digest", "deliver")
DATA = ("models", "errors", "urls", "tokens", "testhooks", "__init__")

# part -> the parts it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "face": {"face", "meeting", "project", "store-front", "data"},
    "meeting": {"meeting", "stage", "store-front", "project", "data"},
    "stage": {"stage", "people", "store-front", "project", "data"},
    "store": {"store-front", "data", "project-settings"},
    "project": {"data"},
    "data": {"data"},
}


def part_of(module: str) -> str:
    """The layer of a module named 'syndicate.x.y'."""
    parts = module.split(".")[1:] or ["__init__"]
    top = parts[0]
    if top in FACES or top == "__main__":  # `python -m syndicate` is the CLI
        return "face"
    if top in MEETING:
        return "meeting"
    if top in STAGES:
        return "stage"
    if top == "store":
        return "store"
    if top == "project":
        return "project"
    return "data"


def kind_of_target(target: str) -> set[str]:
    """What an imported module counts as for the rules (a target may satisfy several)."""
    parts = target.split(".")[1:] or ["__init__"]
    top = parts[0]
    kinds = {part_of(target)}
    if top == "store" and len(parts) == 1:
        kinds.add("store-front")
    if top == "project" and parts[1:2] == ["settings"]:
        kinds.add("project-settings")
    if top == "people":
        kinds.add("people")
    return kinds


def module_name(path: Path, package: Path = PACKAGE) -> str:
    rel = path.relative_to(package.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, package: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, module) for every syndicate module the file imports, top-level or lazy."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path, package)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("syndicate")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from this module's package, level - 1 up
                package_parts = (
                    here.split(".") if path.name == "__init__.py" else here.split(".")[:-1]
                )
                base = package_parts[: len(package_parts) - (node.level - 1)]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            if not mod.startswith("syndicate"):
                continue
            if mod == "syndicate":  # from syndicate import pipeline, people
                found += [(node.lineno, f"syndicate.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, mod))
    return found


def violations(package: Path = PACKAGE) -> list[str]:
    """Every import that goes against the rules, as 'file:line: a imports b (why)'."""
    problems = []
    for path in sorted(package.rglob("*.py")):
        if "migrations" in path.parts:
            continue  # Alembic's scripts import the schema they migrate
        here = module_name(path, package)
        mine = part_of(here)
        for line, target in imports_of(path, package):
            if target == "syndicate":
                continue  # __version__
            where = f"{path.relative_to(package.parent)}:{line}"
            same_package = target.split(".")[:2] == here.split(".")[:2]
            if target.startswith("syndicate.demo") and not (
                same_package or here.startswith("syndicate.cli")
            ):
                problems.append(f"{where}: {here} imports {target} (only the CLI runs the demo)")
                continue
            if same_package:
                continue
            kinds = kind_of_target(target)
            if not kinds & (ALLOWED[mine] | {mine}) or (
                mine in ("face", "meeting", "stage") and kinds == {"store"}
            ):
                problems.append(f"{where}: {here} ({mine}) imports {target} ({sorted(kinds)[0]})")
    return problems


def test_every_import_follows_the_layers():
    assert violations() == []


def test_the_check_catches_a_face_reaching_into_a_stage(tmp_path):
    """The rules bite: a copy of the package where the CLI imports the extractor, and the
    store imports the digest renderer, fails with both lines named."""
    import shutil

    copy = tmp_path / "syndicate"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    cli = copy / "cli" / "main.py"
    cli.write_text(cli.read_text() + "\nfrom syndicate.sources.extract import extract\n")
    store = copy / "store" / "sql.py"
    store.write_text(store.read_text() + "\nfrom syndicate.digest.render import Renderer\n")
    found = violations(copy)
    assert any("syndicate.cli.main (face) imports syndicate.sources.extract" in p for p in found)
    assert any("syndicate.store.sql (store) imports syndicate.digest.render" in p for p in found)
    assert len(found) == 2


@pytest.mark.parametrize(
    ("module", "part"),
    [
        ("syndicate.cli.main", "face"),
        ("syndicate.pipeline", "meeting"),
        ("syndicate.deliver.send", "stage"),
        ("syndicate.store.sql", "store"),
        ("syndicate.project.settings", "project"),
        ("syndicate.models", "data"),
    ],
)
def test_parts(module, part):
    assert part_of(module) == part


def test_no_test_imports_another_test_module_or_conftest():
    """Shared helpers live in tests/support/ (one builder per purpose); fixtures in
    conftest.py are reached as fixtures, never imported."""
    found = []
    for path in sorted((PACKAGE.parent / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            found += [
                f"{path.name}:{node.lineno}: {n}"
                for n in names
                if n == "conftest" or n.split(".")[0].startswith("test_")
            ]
    assert found == []
