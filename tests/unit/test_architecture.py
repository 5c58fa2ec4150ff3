"""The house's two rules, read from the source: the science and the harness never import each other."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "specbook"
SCIENCE = {"worlds", "ci", "tasks", "specialists", "experiments", "explorers"}
HARNESS = {"harness"}


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(path):
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def imported_modules(source, package):
    """Every module `source` (a module of `package`) imports, anywhere in it, as absolute dotted names."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)  # `from . import x` names modules
    return found


def room(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "specbook" else None


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_package_has_its_rooms():
    rooms = {room(module_name(path)) for path in MODULES}
    assert SCIENCE | HARNESS <= rooms


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_the_science_and_the_harness_do_not_import_each_other(path):
    own = room(module_name(path))
    imported = imported_modules(path.read_text(), package_of(path))
    others = {room(target) for target in imported}
    if own in SCIENCE:
        assert not others & HARNESS, f"{path.name} (science) imports the harness"
    if own in HARNESS:
        assert not others & SCIENCE, f"{path.name} (harness) imports the science"
        assert "specbook" not in imported, f"{path.name} (harness) imports the specbook package"


@pytest.mark.parametrize("source, package, rooms", [
    ("from ..harness.recording import record\n", "specbook.worlds", {"harness"}),
    ("def f():\n    from ...worlds import collider\n", "specbook.harness.sub", {"worlds"}),
    ("from .. import ci\n", "specbook.harness", {"ci"}),
    ("import specbook.tasks.theory\n", "specbook.harness", {"tasks"}),
    ("from ..validation import check_int\n", "specbook.worlds", {"validation"}),
])
def test_the_reader_of_imports_sees_every_form_of_import(source, package, rooms):
    # the rule above can fail: relative, absolute and function-level imports are all read
    assert rooms <= {room(target) for target in imported_modules(source, package)}
