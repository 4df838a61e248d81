"""`.env.example` lists every variable the app reads, and nothing else: a setting added without
its line (or a line left behind by a removed setting) fails here."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
HELPERS = {"env_str", "env_bool", "env_int", "env_list"}
SKIP = {".venv", ".git", "node_modules"}


def _variables_read() -> dict[str, list[str]]:
    """Every name passed to config/env.py's helpers anywhere in the project, with where."""
    found: dict[str, list[str]] = {}
    for path in ROOT.rglob("*.py"):
        if SKIP & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) in HELPERS):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            name = node.args[0] if node.args else None
            # A computed name could not be checked here: keep them literal.
            assert isinstance(name, ast.Constant), where
            assert isinstance(name.value, str), where
            found.setdefault(name.value, []).append(where)
    return found


def _variables_listed() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_env_example_lists_exactly_the_variables_the_app_reads():
    read = _variables_read()

    assert {name: read[name] for name in set(read) - _variables_listed()} == {}
    assert _variables_listed() - set(read) == set()
    # The scan found the settings and gunicorn's: not an empty match.
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY"} <= set(read)
