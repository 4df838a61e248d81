"""make readme-test: run README.md's shell blocks, top to bottom, against a fresh `make run`.

Every ```sh block runs in order in one bash session (variables carry over from block to block),
under `set -euo pipefail`, except a block preceded by `<!-- readme-test: skip -->` (the set-up
commands themselves, the long seeding and benchmark commands). The server is `make run` itself,
on a throwaway SQLite file and a free port, stopped by its process group at the end.

Statuses: a comment in a block that says `→ 201` (or `→ 200 or 304`) states what the next
requests answer; until the next such comment, every curl in the block must answer one of them.
Without one, a request must answer 2xx. `curl` is wrapped for this: it still prints exactly
what the reader sees, and also records its status; a curl error (connection refused, ...) fails.

Prints one line per request and block, then `readme: N passed, M failed`; with README_COUNTS
set, writes `N M` there for .ci/run's total. Exits non-zero on any failure."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_MARK = "<!-- readme-test: skip -->"
EXPECT = re.compile(r"→ ([1-5]\d\d(?: or [1-5]\d\d)*)")
DOCUMENTED_BASE = "http://127.0.0.1:8000"

WRAPPER = r"""
set -euo pipefail
curl() {
  local headers status rc=0
  headers="$(mktemp)"
  command curl -D "$headers" "$@" || rc=$?
  status="$(awk '/^HTTP\//{s=$2} END{print s}' "$headers")"
  rm -f "$headers"
  if [ "$rc" -ne 0 ]; then
    printf 'FAIL\tcurl exited %s\t%s\n' "$rc" "$*" >>"$README_LOG"
    return "$rc"
  fi
  if [ -n "${EXPECT:-}" ]; then
    case " $EXPECT " in *" $status "*) ;; *)
      printf 'FAIL\t%s, expected %s\t%s\n' "$status" "$EXPECT" "$*" >>"$README_LOG"; return 1;;
    esac
  elif [ "${status:0:1}" != 2 ]; then
    printf 'FAIL\t%s, expected 2xx\t%s\n' "$status" "$*" >>"$README_LOG"; return 1
  fi
  printf 'PASS\t%s\t%s\n' "$status" "$*" >>"$README_LOG"
}
"""


def shell_blocks(readme: str) -> list[str]:
    """The ```sh blocks to run, in order."""
    blocks = []
    lines = readme.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() == "```sh":
            skipped = index > 0 and lines[index - 1].strip() == SKIP_MARK
            end = lines.index("```", index + 1)
            if not skipped:
                blocks.append("\n".join(lines[index + 1 : end]))
            index = end
        index += 1
    return blocks


def with_expectations(block: str) -> str:
    """Turn each `→ NNN` comment into `EXPECT="NNN"` before the next command."""
    out = ['EXPECT=""']
    continued = False
    pending = None
    for line in block.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") and not continued:
            found = EXPECT.search(stripped)
            if found:
                pending = found.group(1).replace(" or ", " ")
            out.append(line)
            continue
        if pending is not None and not continued and stripped:
            out.append(f'EXPECT="{pending}"')
            pending = None
        out.append(line)
        continued = line.rstrip().endswith("\\")
    return "\n".join(out)


def free_port() -> int:
    for port in range(18700, 18800):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 18700-18799")


def wait_healthy(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 180  # make run may first create .venv and migrate
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"make run exited with {server.returncode} before serving")
        try:
            with urllib.request.urlopen(f"{base}/api/health/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("make run did not answer /api/health/ within 180 s")


def main() -> int:
    blocks = shell_blocks((ROOT / "README.md").read_text())
    work = Path(tempfile.mkdtemp(prefix="readme-test."))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = work / "requests.log"
    log.touch()
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
        "MEDIA_ROOT": str(work / "media"),
        "README_LOG": str(log),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server_log = (work / "server.log").open("w")
    server = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    failures = 0
    try:
        wait_healthy(base, server)
        script = [WRAPPER]
        for number, block in enumerate(blocks, 1):
            script.append(f"echo '--- README block {number}'")
            script.append(with_expectations(block.replace(DOCUMENTED_BASE, base)))
        script.append("echo '--- README: every block ran'")
        (work / "walkthrough.sh").write_text("\n".join(script) + "\n")
        run = subprocess.run(
            ["bash", str(work / "walkthrough.sh")], cwd=work, env=env, timeout=300, check=False
        )
        if run.returncode != 0:
            print(f"FAIL  the walkthrough stopped with exit status {run.returncode}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        server_log.close()

    results = [line.split("\t") for line in log.read_text().splitlines()]
    passed = sum(1 for result in results if result[0] == "PASS")
    failures = sum(1 for result in results if result[0] == "FAIL")
    for result in results:
        if result[0] == "FAIL":
            print(f"FAIL  {result[1]}: curl {result[2]}")
    if run.returncode != 0 and failures == 0:
        failures = 1  # a command other than curl failed
    print(f"readme: {len(blocks)} blocks, {passed} requests as documented")
    print(f"readme: {passed} passed, {failures} failed")
    if os.environ.get("README_COUNTS"):
        Path(os.environ["README_COUNTS"]).write_text(f"{passed} {failures}\n")
    if failures:
        print(f"server log and script kept in {work}")
        return 1
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
