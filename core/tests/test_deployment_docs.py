"""docs/deployment.md's nginx configuration is the cluster test's: from the error pages to the end
of the server block, line for line, less the test's X-Upstream header."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
FIRST_SHARED_LINE = "error_page 400 /_error/400;"


def _lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines()]
    test_only = ("X-Upstream", "# Test only")
    return [line for line in lines if line and not any(mark in line for mark in test_only)]


def test_docs_nginx_config_is_the_cluster_tests():
    template = _lines((ROOT / "cluster" / "nginx.conf.template").read_text())
    docs_text = (ROOT / "docs" / "deployment.md").read_text()
    block = re.search(r"```nginx\n(.*?)```", docs_text, flags=re.DOTALL)
    assert block is not None, "docs/deployment.md has no nginx block"
    docs = _lines(block.group(1))

    # The comment above the first shared directive is shared too.
    start_template = template.index(FIRST_SHARED_LINE)
    start_docs = docs.index(FIRST_SHARED_LINE)
    while template[start_template - 1].startswith("#"):
        start_template -= 1
        start_docs -= 1
    shared_template = template[start_template:-2]  # less the server's and http's "}"
    shared_docs = docs[start_docs:-1]  # less the server's "}"

    assert shared_docs == shared_template
    assert "proxy_intercept_errors on;" not in shared_template
    assert len(shared_template) > 40
