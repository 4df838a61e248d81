"""The benchmark driver behind `make bench` and `make bench-quick`.

It creates a fresh PostgreSQL database, migrates and seeds it with seed_demo, starts the
production server (gunicorn with gunicorn.conf.py, DEBUG off, throttling off, Redis as the
shared cache under a key prefix of its own unless --no-redis), logs in a pool of
demo users for the authenticated scenarios, runs every scenario with wrk (bench/scenarios.lua)
after a warm-up, checks the booking storm's outcome in the database, and writes the raw results
to bench/results/ and, for full runs, the table in docs/benchmarks.md. Whatever happens, it
stops the server it started and drops the database it created.

Run it through make (which builds .venv first), or directly: .venv/bin/python bench/run.py -h
"""

import argparse
import datetime as dt
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
# The project's own Redis cache backend clears a key prefix (glob characters escaped, in SCAN
# batches); it needs no Django settings. As a script, bench/ and not the root is on sys.path.
sys.path.insert(0, str(ROOT))
from core.cache import PrefixedRedisCache  # noqa: E402

BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
DOC = ROOT / "docs" / "benchmarks.md"
DOC_BEGIN = "<!-- bench:latest:begin -->"
DOC_END = "<!-- bench:latest:end -->"
PYTHON = sys.executable
DEMO_PASSWORD = "demo-password-123"
# The searched cities: the seed's (the gazetteer's most populous), read from the database with
# their centres, up to this many.
SEARCHED_CITIES = 20
# Seeded stays fill the next 365 days. Stays the benchmark books start after every stay already
# in the database (so a reused database works too): the storm's nights first, then its warm-up's,
# then the free-dates scenarios' weeks.
FIRST_FREE_DAY = 400
STORM_OFFSET, STORM_WARMUP_OFFSET, FREE_WEEKS_OFFSET = 0, 5, 14
# Each phase (a warm-up or a measured run) of a scenario that books or registers takes its write
# slots from its own block of the sequence: no phase makes this many requests (the fastest
# writer measured ~400 req/s for 20 s). Blocks stay small so that every stay the run books
# starts within the API's horizon (core.stays.MAX_DAYS_AHEAD); read scenarios take none.
PHASE_SLOTS = 20_000
SLOT_SCENARIOS = {"register", "create_booking", "mixed"}
# core.stays.MAX_DAYS_AHEAD; the driver runs without Django, and bench/test_harness.py checks
# that the two agree.
API_HORIZON_DAYS = 730


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    connections: int = 32


SCENARIOS = [
    # The floors every other row stands on: a request that reaches no view (Django, the
    # middleware, gunicorn, the JSON error), and the health check's one query.
    Scenario("not_found", "floor: unknown path (404)"),
    Scenario("health", "floor: health check (one query)"),
    Scenario("list_page_one", "list, page 1"),
    Scenario("list_random_page", "list, random page (up to 5,000)"),
    Scenario("list_city_price", "list filtered by city and price"),
    Scenario("availability_search", "availability search (city + dates)"),
    Scenario("search_city_guests_price", "search: city + guests + price range"),
    Scenario("search_bounds", "search: map bounds of a city"),
    Scenario("search_near", "search: near + 3 km, by distance"),
    Scenario("search_amenities", "search: amenities (pool, wifi)"),
    Scenario("search_city_dates_guests", "search: city + dates + guests"),
    Scenario("detail", "detail, random id"),
    Scenario("detail_signed_in", "detail, random id, signed in"),
    Scenario("detail_popular", "detail, popular ids (Zipf)"),
    Scenario("quote", "quote: random listing, dates, guests"),
    Scenario("register", "register"),
    Scenario("login", "login", connections=8),
    Scenario("create_property", "create property"),
    Scenario("create_booking", "create booking, free dates"),
    Scenario("booking_storm", "booking storm (one property, same dates)"),
    Scenario("mixed", "mixed 80% reads / 15% bookings / 5% logins"),
]
PROFILES = {
    # users, properties, bookings, seconds per scenario, warm-up seconds
    "full": {
        "users": 2000,
        "properties": 100_000,
        "bookings": 300_000,
        "duration": 20,
        "warmup": 5,
    },
    "quick": {"users": 200, "properties": 5000, "bookings": 10_000, "duration": 5, "warmup": 2},
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def loadavg() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def child_pids(parent_pid: int) -> list[int]:
    return [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit()
        and (fields := _proc_stat(int(entry.name))) is not None
        and int(fields[1]) == parent_pid
    ]


def process_tree_cpu_seconds(root_pid: int) -> float:
    """utime + stime of a process and its children (gunicorn's master and workers), from /proc."""
    return processes_cpu_seconds([root_pid, *child_pids(root_pid)])


def processes_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds of each process still alive."""
    seconds = {}
    for pid in pids:
        if (fields := _proc_stat(pid)) is not None:
            seconds[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return seconds


def processes_cpu_seconds(pids: list[int]) -> float:
    return sum(processes_cpu(pids).values())


def machine_busy_seconds() -> float:
    """CPU seconds every core spent on anything but idle and I/O wait since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICKS


class Database:
    """A throw-away PostgreSQL database, dropped on close unless kept."""

    def __init__(self, admin_url: str, name: str, *, keep: bool, reuse: bool):
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise SystemExit(f"Bad database name {name!r}.")
        self.admin_url, self.name, self.keep, self.reuse = admin_url, name, keep, reuse
        self.created = False
        host_part = admin_url.rsplit("/", 1)[0]
        self.url = f"{host_part}/{name}".replace("postgresql://", "postgres://", 1)

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    def exists(self) -> bool:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.name])
            return row.fetchone() is not None

    def create(self) -> bool:
        """Create the database; False when reusing an existing one (already seeded)."""
        if self.reuse and self.exists():
            log(f"reusing database {self.name}")
            return False
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{self.name}"')
        self.created = True
        return True

    def connect(self):
        return psycopg.connect(self.url, autocommit=True)

    def backend_pids(self) -> list[int]:
        """Server processes serving this database (the app's persistent connections)."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.name],
            ).fetchall()
        return [row[0] for row in rows]

    def close(self) -> None:
        if self.keep or not self.created:
            return
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        log(f"dropped database {self.name}")


class Server:
    """gunicorn with the project's gunicorn.conf.py, in its own process group."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path):
        self.env, self.port, self.log_path = env, port, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        gunicorn = Path(PYTHON).with_name("gunicorn")
        self.log_file = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(gunicorn), "-c", str(ROOT / "gunicorn.conf.py"), "config.wsgi:application"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited at start; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/api/health/", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer /api/health/ within 60 s; see {self.log_path}")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server is not started"
        return self.process.pid

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log_file.close()
        log("server stopped")


def post_json(url: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


def lua_string(text: str) -> str:
    """A Lua string literal: quotes, backslashes and control characters as decimal escapes
    (Lua 5.1 and LuaJIT know no \\u escapes), everything else as UTF-8."""
    return (
        '"'
        + "".join(
            f"\\{ord(char):03d}" if ord(char) < 32 or char in '"\\\x7f' else char for char in text
        )
        + '"'
    )


def lua_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return lua_string(value)
    if isinstance(value, list):
        return "{" + ",".join(lua_value(item) for item in value) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"[{lua_string(k)}]={lua_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def prepare_data(db: Database, server: Server, run_id: str, work: Path) -> dict:
    """Everything the Lua scenarios need, written to a Lua file: signed-in accounts, bookable
    properties with their owners, the storm's property and dates."""
    with db.connect() as conn:
        min_id, max_id, listed = conn.execute(
            "SELECT min(id), max(id), count(*) FROM properties_property WHERE deleted_at IS NULL"
        ).fetchone()
        # Listings whose rules cannot refuse the scenario's stays (a fifth of the seeded ones
        # have rates: minimum stays, closed days, notice): every booking is then a 201 or a
        # 409, never a 400 measured as if it were a booking. Instant booking: no requests.
        bookable = conn.execute(
            "SELECT p.id, p.owner_id FROM properties_property p "
            "WHERE p.availability AND p.instant_book AND p.deleted_at IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM rates_rateplan r WHERE r.property_id = p.id) "
            "AND NOT EXISTS (SELECT 1 FROM rates_rateday d WHERE d.property_id = p.id) "
            "ORDER BY p.id"
        ).fetchall()
        (last_check_out,) = conn.execute("SELECT max(check_out) FROM bookings_booking").fetchone()
        cities = [
            {"name": name, "lat": float(latitude), "lng": float(longitude)}
            for name, latitude, longitude in conn.execute(
                "SELECT city, avg(latitude), avg(longitude) FROM properties_property "
                "WHERE deleted_at IS NULL AND city <> '' AND latitude IS NOT NULL "
                "GROUP BY city ORDER BY count(*) DESC, city LIMIT %s",
                (SEARCHED_CITIES,),
            ).fetchall()
        ]
        usernames = [
            row[0]
            for row in conn.execute(
                "SELECT username FROM accounts_user WHERE username LIKE 'demo\\_%%' ORDER BY id"
            ).fetchall()
        ]
    accounts = []
    for username in usernames[:64]:
        reply = post_json(
            f"{server.base_url}/api/login/", {"username": username, "password": DEMO_PASSWORD}
        )
        accounts.append({"id": reply["id"], "token": reply["token"]})
    # The storm targets the last bookable property; none of the storming guests owns it.
    storm_property_id, storm_owner = bookable[-1]
    today = dt.datetime.now(dt.UTC).date()
    free_from = max(FIRST_FREE_DAY, ((last_check_out or today) - today).days + 1)
    data = {
        "run_id": run_id,
        "today_epoch_day": (today - dt.date(1970, 1, 1)).days,
        "min_id": min_id,
        "max_id": max_id,
        "max_page": min(5000, max(1, listed // 20)),
        "cities": cities,
        "password": DEMO_PASSWORD,
        "login_usernames": usernames[64:1064] or usernames,
        "accounts": accounts,
        "storm_accounts": [a for a in accounts if a["id"] != storm_owner],
        "bookable_ids": [row[0] for row in bookable],
        "bookable_owners": [row[1] for row in bookable],
        "free_from_day": free_from + FREE_WEEKS_OFFSET,
        "storm_day": free_from + STORM_OFFSET,
        "storm_warmup_day": free_from + STORM_WARMUP_OFFSET,
        "storm_property_id": storm_property_id,
    }
    path = work / "data.lua"
    path.write_text("return " + lua_value(data) + "\n")
    return {"path": path, **data}


def check_horizon(data: dict, scenarios, *, warmup: bool) -> None:
    """Refuse to start a run whose booked stays would begin past the API's horizon: they would
    be measured as 400s instead of bookings."""
    phases = sum(1 for s in scenarios if s.name in SLOT_SCENARIOS) * (2 if warmup else 1)
    weeks = -(-phases * PHASE_SLOTS // len(data["bookable_ids"]))  # ceiling
    last_check_in = data["free_from_day"] + weeks * 7
    if last_check_in > API_HORIZON_DAYS:
        raise SystemExit(
            f"booked stays would start {last_check_in} days ahead, past the API's horizon of "
            f"{API_HORIZON_DAYS}: seed more properties or run fewer write scenarios"
        )


def run_wrk(
    server: Server,
    db: Database,
    scenario: Scenario,
    *,
    cache_pids: list[int],
    data: dict,
    seconds: int,
    sequence_base: int,
    storm_day: int,
    work: Path,
) -> dict:
    out = work / f"{scenario.name}.json"
    out.unlink(missing_ok=True)
    threads = min(2, scenario.connections)
    env = {
        **os.environ,
        "BENCH_SCENARIO": scenario.name,
        "BENCH_DATA": str(data["path"]),
        "BENCH_OUT": str(out),
        "BENCH_THREADS": str(threads),
        "BENCH_SEQUENCE_BASE": str(sequence_base),
        "BENCH_STORM_DAY": str(storm_day),
    }
    command = [
        "wrk",  # main() has checked that it is on PATH
        f"-t{threads}",
        f"-c{scenario.connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "scenarios.lua"),
        server.base_url,
    ]
    # PostgreSQL backends live as long as the app's connections (CONN_MAX_AGE): those open at
    # the start count from then, those opened during the run from their start. A connection
    # recycled during the run loses its last seconds: the db column is a slight undercount.
    db_before = processes_cpu(db.backend_pids())
    cache_before = processes_cpu_seconds(cache_pids)
    cpu_before = process_tree_cpu_seconds(server.pid)
    busy_before = machine_busy_seconds()
    load_before = loadavg()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    assert process.stdout is not None  # PIPE, as is stderr
    assert process.stderr is not None
    stdout, stderr = process.stdout.read().decode(), process.stderr.read().decode()
    process.stdout.close()
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or not out.exists():
        raise SystemExit(f"wrk failed for {scenario.name}:\n{stdout}\n{stderr}")
    busy = machine_busy_seconds() - busy_before
    server_cpu = process_tree_cpu_seconds(server.pid) - cpu_before
    db_after = processes_cpu([*db_before, *db.backend_pids()])
    db_cpu = sum(seconds - db_before.get(pid, 0.0) for pid, seconds in db_after.items())
    # Redis serves every client on the host from one process: its CPU during the run is ours
    # unless someone else used it at the same time (then it is an overcount).
    cache_cpu = processes_cpu_seconds(cache_pids) - cache_before
    wrk_cpu = usage.ru_utime + usage.ru_stime
    result = json.loads(out.read_text())
    seconds_measured = result["duration_us"] / 1e6
    result.update(
        {
            "scenario": scenario.name,
            "title": scenario.title,
            "connections": scenario.connections,
            "wrk_threads": threads,
            "seconds": round(seconds_measured, 2),
            "requests_per_second": round(result["requests"] / seconds_measured, 1),
            "server_cpu_seconds": round(server_cpu, 2),
            "db_cpu_seconds": round(db_cpu, 2),
            "cache_cpu_seconds": round(cache_cpu, 2),
            "wrk_cpu_seconds": round(wrk_cpu, 2),
            # Everything else the machine did meanwhile: other people's work, the kernel.
            "other_cpu_seconds": round(
                max(0.0, busy - server_cpu - db_cpu - cache_cpu - wrk_cpu), 2
            ),
            # What one request costs, whatever else competed for the cores: the steadiest
            # before/after measure on a shared machine.
            "app_cpu_ms_per_request": round(1000 * server_cpu / max(1, result["requests"]), 2),
            "db_cpu_ms_per_request": round(1000 * db_cpu / max(1, result["requests"]), 2),
            "cache_cpu_ms_per_request": round(1000 * cache_cpu / max(1, result["requests"]), 2),
            "load_before": load_before,
            "load_after": loadavg(),
        }
    )
    return result


def storm_check(db: Database, data: dict, storm_day: int, result: dict) -> dict:
    """The storm's one invariant: exactly one confirmed booking for those nights, no 5xx."""
    today = dt.date(1970, 1, 1) + dt.timedelta(days=data["today_epoch_day"])
    check_in = today + dt.timedelta(days=storm_day)
    with db.connect() as conn:
        (confirmed,) = conn.execute(
            "SELECT count(*) FROM bookings_booking WHERE property_id = %s AND status = "
            "'confirmed' AND check_in = %s AND check_out = %s",
            [data["storm_property_id"], check_in, check_in + dt.timedelta(days=3)],
        ).fetchone()
    statuses = result["statuses"]
    server_errors = sum(count for code, count in statuses.items() if code.startswith("5"))
    created = statuses.get("201", 0)
    return {
        "bookings_in_database": confirmed,
        "responses_201": created,
        "responses_5xx": server_errors,
        "ok": confirmed == 1 and created == 1 and server_errors == 0,
    }


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": (wrk_version.stdout + wrk_version.stderr).split("\n")[0].split(" Copyright")[0],
    }


def versions(db: Database) -> dict:
    import django
    import gunicorn
    import rest_framework

    with db.connect() as conn:
        (postgres,) = conn.execute("SHOW server_version").fetchone()
    return {
        "postgresql": postgres,
        "django": django.get_version(),
        "djangorestframework": rest_framework.VERSION,
        "gunicorn": gunicorn.__version__,
    }


def git_revision() -> str:
    reply = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    revision = reply.stdout.strip() or "unknown"
    return revision + ("+dirty" if dirty.stdout.strip() else "")


def ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.1f}"


def non_2xx(statuses: dict) -> str:
    others = {code: count for code, count in sorted(statuses.items()) if not code.startswith("2")}
    return ", ".join(f"{code}: {count}" for code, count in others.items()) or "none"


def markdown_table(report: dict) -> str:
    lines = [
        "| scenario | conns | req/s | p50 ms | p95 ms | p99 ms | socket errors | non-2xx |"
        " CPU ms/req: app / db / cache | CPU s: app / db / cache / wrk / other | load before |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---|---|",
    ]
    for row in report["scenarios"]:
        latency, errors = row["latency_us"], row["errors"]
        socket_errors = sum(errors[key] for key in ("connect", "read", "write", "timeout"))
        lines.append(
            f"| {row['title']} | {row['connections']} | {row['requests_per_second']:,.0f} | "
            f"{ms(latency['p50'])} | {ms(latency['p95'])} | {ms(latency['p99'])} | "
            f"{socket_errors} | {non_2xx(row['statuses'])} | "
            f"{row['app_cpu_ms_per_request']} / {row['db_cpu_ms_per_request']} / "
            f"{row['cache_cpu_ms_per_request']} | "
            f"{row['server_cpu_seconds']} / {row['db_cpu_seconds']} / "
            f"{row['cache_cpu_seconds']} / {row['wrk_cpu_seconds']} / "
            f"{row['other_cpu_seconds']} | "
            f"{' '.join(map(str, row['load_before']))} |"
        )
    return "\n".join(lines)


def markdown_report(report: dict) -> str:
    settings = report["settings"]
    storm = report.get("storm_check")
    machine_info, version_info = report["machine"], report["versions"]
    storm_line = (
        f"Booking storm check: {storm['bookings_in_database']} booking in the database, "
        f"{storm['responses_201']} response 201, {storm['responses_5xx']} responses 5xx: "
        f"**{'pass' if storm['ok'] else 'FAIL'}**."
        if storm
        else "Booking storm not run."
    )
    return "\n".join(
        [
            DOC_BEGIN,
            f"Run `{report['run_id']}` at {report['started_at']} (git {report['revision']}), "
            f"profile `{report['profile']}`: {settings['seed']['properties']:,} properties, "
            f"{settings['seed']['users']:,} users, {settings['seed']['bookings']:,} bookings; "
            f"{settings['duration']} s per scenario after a {settings['warmup']} s warm-up. "
            f"Raw results: `{report['results_file']}`.",
            "",
            markdown_table(report),
            "",
            storm_line,
            "",
            f"- Machine: {machine_info['cpu']}, {machine_info['cores']} cores, "
            f"{machine_info['memory_gib']} GiB, Linux {machine_info['kernel']}; load average "
            f"{' '.join(map(str, report['load_start']))} at start, "
            f"{' '.join(map(str, report['load_end']))} at end.",
            f"- Versions: Python {machine_info['python']}, Django {version_info['django']}, "
            f"DRF {version_info['djangorestframework']}, gunicorn {version_info['gunicorn']}, "
            f"PostgreSQL {version_info['postgresql']}, {machine_info['wrk']}.",
            f"- Server: gunicorn, WEB_CONCURRENCY={settings['workers']}, "
            f"GUNICORN_THREADS={settings['threads']}, DEBUG=false, THROTTLING_ENABLED=false, "
            f"CONN_MAX_AGE={settings['conn_max_age']}, "
            f"{settings['cache']}.",
            "- wrk runs on the same 2 cores as gunicorn and PostgreSQL: every number includes "
            "the generator's own CPU. The CPU column splits the CPU seconds spent during each "
            "measured run between gunicorn (app), this database's PostgreSQL backends (db), "
            "the Redis server (cache), wrk, and everything else on the host (other: other "
            "people's work, the kernel); "
            f"{report['machine']['cores']} cores x the run's seconds is the ceiling.",
            DOC_END,
        ]
    )


def write_doc(report: dict) -> None:
    block = markdown_report(report)
    text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{DOC_BEGIN}\n{DOC_END}\n"
    if DOC_BEGIN not in text:
        text += f"\n{DOC_BEGIN}\n{DOC_END}\n"
    start, end = text.index(DOC_BEGIN), text.index(DOC_END) + len(DOC_END)
    DOC.write_text(text[:start] + block + text[end:])


def redis_pid(url: str) -> int:
    """The Redis server's process id, for its CPU time; it must run on this host."""
    try:
        return int(redis.Redis.from_url(url).info("server")["process_id"])
    except redis.RedisError as exc:
        raise SystemExit(f"Redis at {url} is unreachable ({exc}); or run with --no-redis.") from exc


def free_port(preferred: int) -> int:
    with socket.socket() as probe:
        # As gunicorn does: connections of the previous run in TIME_WAIT do not block the port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError as exc:
            raise SystemExit(f"Port {preferred} is taken; pick another with --port.") from exc
    return preferred


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--duration", type=int, help="seconds per scenario (profile default)")
    parser.add_argument("--warmup", type=int, help="warm-up seconds per scenario")
    parser.add_argument("--only", help="comma-separated scenario names (default: all)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 18800)))
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="an administrative connection, used to create and drop the bench database",
    )
    parser.add_argument(
        "--db",
        default=os.environ.get("BENCH_DB"),
        help="database name (default: a unique bench_<pid>_<time>)",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--reuse-db", action="store_true", help="reuse --db if it exists (skips seeding)"
    )
    parser.add_argument("--workers", default=os.environ.get("WEB_CONCURRENCY", ""))
    parser.add_argument("--threads", default=os.environ.get("GUNICORN_THREADS", ""))
    parser.add_argument("--label", default="", help="suffix of the results file name")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="the server's REDIS_URL (shared cache, throttle counters, response cache)",
    )
    parser.add_argument(
        "--no-redis", action="store_true", help="run without REDIS_URL (no response cache)"
    )
    parser.add_argument(
        "--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md (full runs do)"
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian/Ubuntu: apt-get install wrk).")
    profile = PROFILES[args.profile]
    duration = args.duration or profile["duration"]
    warmup = profile["warmup"] if args.warmup is None else args.warmup
    only = set(args.only.split(",")) if args.only else None
    scenarios = [s for s in SCENARIOS if only is None or s.name in only]
    if only and len(scenarios) != len(only):
        raise SystemExit(f"Unknown scenario in --only; known: {[s.name for s in SCENARIOS]}")
    port = free_port(args.port)
    run_id = secrets.token_hex(3)
    db_name = args.db or f"bench_{os.getpid()}_{int(time.time())}"
    db = Database(args.postgres_url, db_name, keep=args.keep_db, reuse=args.reuse_db)
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    env = {
        **os.environ,
        "DATABASE_URL": db.url,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # The documented switch for load tests: every rate limit off.
        "THROTTLING_ENABLED": "false",
        # Tokens obtained at set-up must outlive the run.
        "ACCESS_TOKEN_MINUTES": "120",
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
        # No worker recycling during a run: a replaced worker takes its CPU time with it, which
        # would falsify the per-request CPU split, and its restart would be measured too.
        "GUNICORN_MAX_REQUESTS": "0",
    }
    cache_pids: list[int] = []
    cache_setting = "no shared cache (REDIS_URL unset)"
    if args.no_redis:
        # Not even one exported in the shell: the report says the server ran without Redis.
        env.pop("REDIS_URL", None)
        env.pop("CACHE_KEY_PREFIX", None)
    else:
        # As deployed with several workers or instances (docs/deployment.md): Redis is the
        # shared cache, under a prefix of this run's own, deleted at the end.
        env["REDIS_URL"] = args.redis_url
        env["CACHE_KEY_PREFIX"] = f"bench-{run_id}"
        cache_pids = [redis_pid(args.redis_url)]
        cache_setting = (
            f"REDIS_URL set (RESPONSE_CACHE_SECONDS="
            f"{env.get('RESPONSE_CACHE_SECONDS', '60 (default)')})"
        )
    if args.workers:
        env["WEB_CONCURRENCY"] = args.workers
    if args.threads:
        env["GUNICORN_THREADS"] = args.threads
    server = Server(env, port, work / "gunicorn.log")
    report: dict = {
        "run_id": run_id,
        "profile": args.profile,
        "started_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "revision": git_revision(),
        "load_start": loadavg(),
        "machine": machine(),
        "scenarios": [],
    }
    try:
        seeded = db.create()
        manage = [PYTHON, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        seed = {key: profile[key] for key in ("users", "properties", "bookings")}
        if seeded:
            log(f"seeding {db.name}: {seed}")
            subprocess.run(
                [*manage, "seed_demo", "--seed", "7", *[f"--{k}={v}" for k, v in seed.items()]],
                cwd=ROOT,
                env=env,
                check=True,
            )
        # A bulk load leaves no statistics and no visibility map, and a reused database the
        # dead rows and rewritten pages of the runs before (every booking rewrites its
        # listing's row: its night mask). Autovacuum would clear both within a minute or two
        # in production (it may be off on a test server); without it index-only scans read
        # the table again, and the run would measure the last run's leftovers.
        with db.connect() as conn:
            conn.execute("VACUUM ANALYZE")
        report["versions"] = versions(db)
        server.start()
        # What gunicorn.conf.py made of the environment: count the master's worker processes
        # (the master forks them one after another; give it a moment to finish).
        time.sleep(1)
        workers = str(len(child_pids(server.pid)))
        log(f"server up on {server.base_url} ({workers} workers); preparing tokens")
        data = prepare_data(db, server, run_id, work)
        report["settings"] = {
            "seed": seed,
            "duration": duration,
            "warmup": warmup,
            "workers": workers,
            "threads": env.get("GUNICORN_THREADS") or "gunicorn.conf.py default",
            "conn_max_age": env.get("CONN_MAX_AGE", "60 (default)"),
            "cache": cache_setting,
            "database": db.name,
        }
        check_horizon(data, scenarios, warmup=bool(warmup))
        sequence_base = 0
        for scenario in scenarios:
            # A warm-up (results discarded) then the measured run; each takes its own write slots
            # and its own storm nights.
            phases = [(warmup, "storm_warmup_day")] if warmup else []
            for seconds, storm_key in [*phases, (duration, "storm_day")]:
                result = run_wrk(
                    server,
                    db,
                    scenario,
                    cache_pids=cache_pids,
                    data=data,
                    seconds=seconds,
                    sequence_base=sequence_base,
                    storm_day=data[storm_key],
                    work=work,
                )
                if scenario.name in SLOT_SCENARIOS:
                    sequence_base += PHASE_SLOTS
            if scenario.name == "booking_storm":
                report["storm_check"] = storm_check(db, data, data["storm_day"], result)
            latency = result["latency_us"]
            log(
                f"{scenario.name:20s} {result['requests_per_second']:8.1f} req/s  "
                f"p50 {ms(latency['p50'])} p99 {ms(latency['p99'])} ms  "
                f"statuses {result['statuses']}  load {result['load_after']}"
            )
            report["scenarios"].append(result)
    finally:
        server.stop()
        db.close()
        if not args.no_redis:
            try:
                PrefixedRedisCache(args.redis_url, {"KEY_PREFIX": env["CACHE_KEY_PREFIX"]}).clear()
            except redis.RedisError as exc:  # never hide the run's own error behind this one
                log(f"could not delete the run's Redis keys ({env['CACHE_KEY_PREFIX']}:*): {exc}")
        shutil.rmtree(work, ignore_errors=True)
    report["load_end"] = loadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = f"-{args.label}" if args.label else ""
    results_file = RESULTS / f"{stamp}-{args.profile}{suffix}.json"
    report["results_file"] = str(results_file.relative_to(ROOT))
    results_file.write_text(json.dumps(report, indent=2) + "\n")
    log(f"results: {results_file.relative_to(ROOT)}")
    print(markdown_table(report))
    if args.profile == "full" and not args.no_doc and only is None:
        write_doc(report)
        log(f"updated {DOC.relative_to(ROOT)}")
    storm = report.get("storm_check")
    if storm and not storm["ok"]:
        log(f"BOOKING STORM CHECK FAILED: {storm}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
