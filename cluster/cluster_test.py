"""Cluster test: two gunicorn instances of the app behind nginx, sharing PostgreSQL and Redis.

Run by `make cluster-test` (.ci/cluster-test.sh installs nginx and cleans up after a crash).
It creates a throwaway database, migrates it, starts instance A and B on two loopback ports and
nginx as a round-robin balancer on a third, and proves through them:
  1. a storm of overlapping bookings, spread over both instances, yields exactly one booking;
  2. an access token revoked by logout on A is refused by B at once;
  3. failed logins are counted across both instances (a low LOGIN_THROTTLE_RATE for the run);
  4. stopping A mid-traffic (SIGTERM, then SIGKILL of a restarted A) leaves the service
     answering through B, and every booking is either complete or absent.
It prints one PASS/FAIL line per check and exits 1 if any failed. Every process it starts is
stopped by PID, the database is dropped and the run's Redis keys are deleted.

Environment: CLUSTER_POSTGRES_URL (admin URL of the server, default the local postgres user),
CLUSTER_DB_PREFIX, CLUSTER_REDIS_URL, CLUSTER_BASE_PORT (uses it and the next two ports),
CLUSTER_WORKERS (gunicorn workers per instance), CLUSTER_TMP (a scratch directory), NGINX."""

import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, LiteralString

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

PG_ADMIN_URL = os.environ.get(
    "CLUSTER_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DB_PREFIX = os.environ.get("CLUSTER_DB_PREFIX", "booking_cluster")
REDIS_URL = os.environ.get("CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/0")
BASE_PORT = int(os.environ.get("CLUSTER_BASE_PORT", "18700"))
WORKERS = int(os.environ.get("CLUSTER_WORKERS", "3"))
NGINX = os.environ.get("NGINX", "nginx")
TMP = Path(os.environ.get("CLUSTER_TMP") or f"/tmp/cluster-test-{os.getpid()}")

PORT_LB, PORT_A, PORT_B = BASE_PORT, BASE_PORT + 1, BASE_PORT + 2
RUN = f"{os.getpid()}_{int(time.time())}"
DATABASE = f"{DB_PREFIX}_{RUN}"
CACHE_PREFIX = f"cluster-{RUN}"
SECRET_KEY = secrets.token_urlsafe(50)
PASSWORD = "cluster-password-123"
STORM_SIZE = 48
LOGIN_LIMIT = 3
REQUEST_TIMEOUT = 40  # longer than nginx's proxy_read_timeout (35 s): nginx answers first


# --- Results ------------------------------------------------------------------------------------
results: list[tuple[bool, str]] = []


def check(passed: bool, name: str, detail: str = "") -> bool:
    results.append((passed, name))
    print(
        f"{'PASS' if passed else 'FAIL'}  {name}" + (f"  ({detail})" if detail else ""), flush=True
    )
    return passed


def note(message: str) -> None:
    print(f"      {message}", flush=True)


class SetupError(Exception):
    """The cluster could not be brought up: no proof can run."""


# --- HTTP ---------------------------------------------------------------------------------------
@dataclass
class Reply:
    status: int
    body: Any  # parsed JSON
    headers: dict[str, str]
    started: float
    finished: float
    # The status line and headers arrived but the body was cut off: what a client sees when
    # the instance dies between gunicorn's two writes (headers, then body) and nginx has
    # already passed the headers on.
    truncated: bool = False

    @property
    def upstream(self) -> str:
        """The instance that finally answered through nginx (after any retry)."""
        return self.headers.get("x-upstream", "").split(",")[-1].strip()


def request(port: int, method: str, path: str, body=None, token: str | None = None) -> Reply:
    """One request on a fresh connection.

    A refused or reset connection is status 0; a body cut off after the status line keeps its
    status and is marked truncated."""
    headers = {"Content-Type": "application/json", "Connection": "close"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = json.dumps(body) if body is not None else None
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        status = response.status
        reply_headers = {k.lower(): v for k, v in response.getheaders()}
        try:
            raw = response.read()
        except (ConnectionError, http.client.HTTPException, TimeoutError) as exc:
            return Reply(status, repr(exc), reply_headers, started, time.monotonic(), True)
    except (ConnectionError, http.client.HTTPException, TimeoutError) as exc:
        return Reply(0, repr(exc), {}, started, time.monotonic())
    finally:
        conn.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return Reply(status, parsed, reply_headers, started, time.monotonic())


def wait_healthy(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if request(port, "GET", "/api/health/").status == 200:
            return
        time.sleep(0.2)
    raise SetupError(f"nothing healthy on port {port} after {seconds:.0f} s")


def wait_back_in_rotation(instance: str, seconds: float = 30) -> None:
    """nginx skips an instance for fail_timeout after a failure, then probes it again."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if request(PORT_LB, "GET", "/api/health/").upstream == instance:
            return
        time.sleep(0.1)
    raise SetupError(f"nginx did not route to {instance} again within {seconds:.0f} s")


# --- Processes ----------------------------------------------------------------------------------
PIDFILE = TMP / "pids"
children: dict[str, subprocess.Popen] = {}


def _record_pids() -> None:
    # .ci/cluster-test.sh kills what is listed here if this driver itself dies uncleanly.
    PIDFILE.write_text("".join(f"{p.pid}\n" for p in children.values() if p.poll() is None))


def spawn(name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    """Start a child in its own process group (its PID is the group's id)."""
    log = (TMP / f"{name}.out").open("ab")
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    log.close()
    children[name] = process
    _record_pids()
    return process


def stop(name: str, sig: int = signal.SIGTERM, wait: float = 40) -> int | None:
    """Signal a child's whole process group; SIGKILL it if it outlives `wait` seconds."""
    process = children.get(name)
    if process is None:
        return None
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    # The group may outlive its leader (gunicorn workers finishing a request): reap it too.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    del children[name]
    _record_pids()
    return process.returncode


def app_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLUSTER_", "DJANGO_"))}
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        REDIS_URL=REDIS_URL,
        CACHE_KEY_PREFIX=CACHE_PREFIX,
        DEBUG="false",
        # One key for every instance: a token signed by A must verify on B.
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # nginx is the one proxy in front: the client address is the last X-Forwarded-For hop.
        NUM_PROXIES="1",
        WEB_CONCURRENCY=str(WORKERS),
        LOGIN_THROTTLE_RATE=f"{LOGIN_LIMIT}/min",
        # The driver registers every guest from one address.
        REGISTER_THROTTLE_RATE="1000/hour",
    )
    return env


def start_instance(name: str, port: int) -> None:
    env = app_env()
    env.update(
        PORT=str(port),
        GUNICORN_ACCESS_LOG=str(TMP / f"{name}.access.log"),
        GUNICORN_ERROR_LOG=str(TMP / f"{name}.error.log"),
    )
    spawn(
        name,
        [str(VENV_BIN / "gunicorn"), "config.wsgi:application", "-c", "gunicorn.conf.py"],
        env,
    )
    wait_healthy(port)


def start_nginx() -> None:
    nginx_dir = TMP / "nginx"
    nginx_dir.mkdir(mode=0o755, exist_ok=True)
    config = (ROOT / "cluster" / "nginx.conf.template").read_text()
    for placeholder, value in {
        "{tmp}": str(nginx_dir),
        "{port_lb}": str(PORT_LB),
        "{port_a}": str(PORT_A),
        "{port_b}": str(PORT_B),
    }.items():
        config = config.replace(placeholder, value)
    conf = nginx_dir / "nginx.conf"
    conf.write_text(config)
    argv = [NGINX, "-p", str(nginx_dir), "-c", str(conf), "-e", str(nginx_dir / "nginx.error.log")]
    test = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=30, check=False)
    if test.returncode != 0:
        raise SetupError(f"nginx refuses the configuration: {test.stderr.strip()}")
    spawn("nginx", argv, os.environ.copy())
    wait_healthy(PORT_LB)


# --- Database and Redis -------------------------------------------------------------------------
def admin_sql(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, connect_timeout=5, autocommit=True) as conn:
        conn.execute(sql)


# The test's own connections carry this name so that counting the app's connections leaves them
# out: the sampler thread's connection would otherwise be counted whenever it is open at the same
# moment as the main thread's check (one run in a few saw 7 of 6).
OBSERVER = "cluster-test-observer"


def db() -> psycopg.Connection:
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}"
    return psycopg.connect(url, connect_timeout=5, autocommit=True, application_name=OBSERVER)


def app_connections() -> int:
    """Server connections to the run's database, other than the test's own."""
    with db() as conn:
        return count(
            conn,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name <> %s",
            [DATABASE, OBSERVER],
        )


def count(conn: psycopg.Connection, sql: LiteralString, params: list[Any]) -> int:
    """The result of a `SELECT count(*)` query, which always returns one row."""
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


class ConnectionSampler(threading.Thread):
    """The most server connections the run's database had at once, sampled every 0.2 s."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(0.2):
            with contextlib.suppress(psycopg.Error):
                self.peak = max(self.peak, app_connections())


def bookings_of(property_id: int) -> dict[int, tuple]:
    with db() as conn:
        rows = conn.execute(
            "SELECT id, guest_id, check_in, check_out, total_price, status"
            " FROM bookings_booking WHERE property_id = %s",
            [property_id],
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


def redis_keys(pattern: str) -> list[bytes]:
    return list(redis_client().scan_iter(match=f"{CACHE_PREFIX}:{pattern}", count=500))


# --- Fixtures through the API -------------------------------------------------------------------
@dataclass
class Account:
    id: int
    username: str
    token: str
    refresh: str


def register(port: int, username: str) -> Account:
    reply = request(
        port,
        "POST",
        "/api/register/",
        {"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    if reply.status != 201:
        raise SetupError(f"registering {username}: {reply.status} {reply.body}")
    return Account(reply.body["id"], username, reply.body["token"], reply.body["refresh"])


def create_property(host: Account, title: str, price: str, port: int = PORT_LB) -> int:
    reply = request(
        port,
        "POST",
        "/api/properties/",
        {"title": title, "price_per_night": price, "location": "Nairobi, Kenya"},
        token=host.token,
    )
    if reply.status != 201:
        raise SetupError(f"creating {title}: {reply.status} {reply.body}")
    return reply.body["id"]


def booking_body(property_id: int, check_in: date, nights: int) -> dict:
    return {
        "property_id": property_id,
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=nights)).isoformat(),
    }


A = f"127.0.0.1:{PORT_A}"
B = f"127.0.0.1:{PORT_B}"
FAR_AHEAD = datetime.now(UTC).date() + timedelta(days=60)


# --- 1. Booking storm ---------------------------------------------------------------------------
def proof_storm(guests: list[Account], property_id: int, price: Decimal) -> None:
    # Every stay holds the night FAR_AHEAD + 2, so any two of them overlap.
    bodies = [
        {
            "property_id": property_id,
            "check_in": (FAR_AHEAD + timedelta(days=n % 3)).isoformat(),
            "check_out": (FAR_AHEAD + timedelta(days=3 + n % 4)).isoformat(),
        }
        for n in range(STORM_SIZE)
    ]
    barrier = threading.Barrier(STORM_SIZE)

    def book(n: int) -> Reply:
        barrier.wait(timeout=30)
        return request(PORT_LB, "POST", "/api/bookings/", bodies[n], token=guests[n].token)

    with ThreadPoolExecutor(max_workers=STORM_SIZE) as pool:
        replies = list(pool.map(book, range(STORM_SIZE)))
    elapsed = max(r.finished for r in replies) - min(r.started for r in replies)

    statuses = Counter(r.status for r in replies)
    check(
        statuses == Counter({201: 1, 409: STORM_SIZE - 1}),
        f"storm: {STORM_SIZE} concurrent overlapping bookings give one 201 and "
        f"{STORM_SIZE - 1} 409",
        f"got {dict(statuses)} in {elapsed:.2f} s",
    )
    by_instance = Counter(r.upstream for r in replies)
    check(
        set(by_instance) == {A, B},
        "storm: requests were spread across both instances",
        f"{dict(by_instance)}",
    )
    rows = bookings_of(property_id)
    winners = [n for n, r in enumerate(replies) if r.status == 201]
    if check(len(rows) == 1 and len(winners) == 1, "storm: exactly one booking row", f"{rows}"):
        winner = replies[winners[0]].body
        guest_id, check_in, check_out, total, status = rows[winner["id"]]
        nights = (check_out - check_in).days
        check(
            (guest_id, check_in.isoformat(), check_out.isoformat(), total, status)
            == (
                guests[winners[0]].id,
                winner["check_in"],
                winner["check_out"],
                price * nights,
                "confirmed",
            )
            and Decimal(str(winner["total_price"])) == total,
            "storm: the row is the winner's, total_price = nights x price",
            f"{nights} nights, {total}",
        )
    losers = [r.body for r in replies if r.status == 409]
    check(
        all(set(body) == {"detail", "code"} for body in losers),
        "storm: every 409 has the JSON error shape",
    )


# --- 2. Revocation ------------------------------------------------------------------------------
def proof_revocation() -> None:
    account = register(PORT_A, f"revoked_{RUN[-6:]}")
    before = request(PORT_B, "GET", "/api/profile/", token=account.token)
    logout = request(
        PORT_A, "POST", "/api/logout/", {"refresh": account.refresh}, token=account.token
    )
    after_b = request(PORT_B, "GET", "/api/profile/", token=account.token)
    after_a = request(PORT_A, "GET", "/api/profile/", token=account.token)
    refresh_b = request(PORT_B, "POST", "/api/token/refresh/", {"refresh": account.refresh})
    check(
        (before.status, logout.status) == (200, 204),
        "revocation: B accepts A's token, logout on A is a 204",
        f"{before.status}, {logout.status}",
    )
    check(
        after_b.status == 401
        and after_b.body == {"detail": "Token has been revoked.", "code": "token_invalid"},
        "revocation: B refuses the access token right after logout on A",
        f"{after_b.status} {after_b.body}",
    )
    check(
        (after_a.status, refresh_b.status) == (401, 401),
        "revocation: A refuses it too, and B refuses the revoked refresh token",
        f"{after_a.status}, {refresh_b.status} {refresh_b.body}",
    )


# --- 3. Login throttling ------------------------------------------------------------------------
def proof_throttling() -> None:
    account = register(PORT_A, f"throttled_{RUN[-6:]}")
    wrong = {"username": account.username, "password": "not-the-password"}
    ports = [PORT_A, PORT_B] * LOGIN_LIMIT
    failures = [request(port, "POST", "/api/login/", wrong).status for port in ports[:LOGIN_LIMIT]]
    # Alone, the next instance has seen fewer than LOGIN_LIMIT failures and would answer 401.
    throttled = request(ports[LOGIN_LIMIT], "POST", "/api/login/", wrong)
    right = request(
        ports[LOGIN_LIMIT + 1],
        "POST",
        "/api/login/",
        {"username": account.username, "password": PASSWORD},
    )
    retry_after = throttled.headers.get("retry-after", "")
    check(
        failures == [401] * LOGIN_LIMIT,
        f"throttling: the first {LOGIN_LIMIT} wrong passwords, alternating A and B, are 401",
        f"{failures}",
    )
    check(
        throttled.status == 429 and retry_after.isdigit() and 0 < int(retry_after) <= 60,
        f"throttling: attempt {LOGIN_LIMIT + 1} (on B) is a 429 with Retry-After",
        f"{throttled.status}, Retry-After {retry_after!r}",
    )
    check(
        right.status == 429,
        "throttling: the locked-out name is refused on A even with the right password",
        f"{right.status}",
    )
    keys = redis_keys("1:throttle_login_username_*")
    check(len(keys) == 1, "throttling: one shared counter for the name, in Redis", f"{keys}")


# --- Shared cache: the property count -----------------------------------------------------------
def proof_shared_count(host: Account) -> None:
    # Every worker of both instances reads (and so caches) the total and the page first; A's
    # write then replaces the generation they are filed under. With a cache per process, B's
    # workers would go on serving their stale copies.
    def counts(port: int) -> set[int]:
        return {
            request(port, "GET", "/api/properties/?page_size=1").body["count"]
            for _ in range(3 * WORKERS)
        }

    before = counts(PORT_A) | counts(PORT_B)
    generation = f"{CACHE_PREFIX}:1:generation:listings"
    token_before = redis_client().get(generation)
    create_property(host, "Counted on A", "50.00", port=PORT_A)
    token_after = redis_client().get(generation)
    after = counts(PORT_B)
    check(
        len(before) == 1
        and after == {before.pop() + 1}
        and None not in (token_before, token_after)
        and token_before != token_after,
        "cache: B counts a property created on A at once (the write replaced the listings "
        "generation in Redis, hiding every cached total and response)",
        f"B answers {sorted(after)}; generation token in Redis before/after the write: "
        f"{token_before!r}/{token_after!r}",
    )


# --- 4. Stopping an instance mid-traffic --------------------------------------------------------
@dataclass
class Traffic:
    writes: list[tuple[dict, Account, Reply]] = field(default_factory=list)
    reads: list[Reply] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    answered_by_a: int = 0
    done: threading.Event = field(default_factory=threading.Event)


def outcome(reply: Reply) -> int | str:
    return f"{reply.status} cut off" if reply.truncated else reply.status


def cut_off_reasons(replies: list[tuple[dict, Account, Reply]]) -> str:
    """What the client saw when an answer was not whole: printed so a failure explains itself."""
    seen = Counter(reply.body for _, _, reply in replies if reply.status == 0 or reply.truncated)
    return f"; broken answers: {dict(seen)}" if seen else ""


def run_traffic(
    traffic: Traffic, guests: list[Account], property_id: int, writers: int, per_writer: int
) -> tuple[list[threading.Thread], list[threading.Thread]]:
    def writer(w: int) -> None:
        for j in range(per_writer):
            slot = w * per_writer + j
            # Two nights each, back to back: no two slots overlap, so each should succeed.
            body = booking_body(property_id, FAR_AHEAD + timedelta(days=10 + 2 * slot), 2)
            guest = guests[slot % len(guests)]
            reply = request(PORT_LB, "POST", "/api/bookings/", body, token=guest.token)
            with traffic.lock:
                traffic.writes.append((body, guest, reply))
                traffic.answered_by_a += reply.upstream == A

    def reader(r: int) -> None:
        n = 0
        while not traffic.done.is_set():
            # Signed in, so each guest's own rate applies rather than one shared anonymous one.
            guest = guests[(2 * n + r) % len(guests)]
            path = f"/api/properties/{property_id}/availability/"
            reply = request(PORT_LB, "GET", path, token=guest.token)
            n += 1
            with traffic.lock:
                traffic.reads.append(reply)
                traffic.answered_by_a += reply.upstream == A

    writer_threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    reader_threads = [threading.Thread(target=reader, args=(r,)) for r in range(2)]
    for thread in writer_threads + reader_threads:
        thread.start()
    return writer_threads, reader_threads


def proof_stop(
    name: str, sig: int, guests: list[Account], property_id: int, price: Decimal
) -> None:
    traffic = Traffic()
    writers, readers = run_traffic(traffic, guests, property_id, writers=6, per_writer=30)
    deadline = time.monotonic() + 60
    while traffic.answered_by_a < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    in_flight = len(traffic.writes) + len(traffic.reads)
    if sig == signal.SIGTERM:
        # What an orchestrator does: only the master is signalled; it stops listening and lets
        # its workers finish what they hold.
        os.kill(children["a"].pid, signal.SIGTERM)
        children["a"].wait(timeout=45)
        stop("a")
    else:
        # A crash: master and workers die at once, mid-request, mid-transaction.
        stop("a", signal.SIGKILL)
    dead_at = time.monotonic()
    note(f"{name}: A stopped after {in_flight} answers ({traffic.answered_by_a} from A)")
    for thread in writers:
        thread.join(timeout=180)
    traffic.done.set()
    for thread in readers:
        thread.join(timeout=60)

    # Only a crash can cut an answer off after its status line (a graceful stop lets workers
    # finish writing); the client then has a status but no body, and nginx cannot retry.
    crash = sig == signal.SIGKILL
    statuses = Counter(outcome(reply) for _, _, reply in traffic.writes)
    late = [reply for _, _, reply in traffic.writes if reply.started > dead_at]
    late += [reply for reply in traffic.reads if reply.started > dead_at]
    check(
        len(traffic.writes) == 180
        and set(statuses) <= ({201, 502, "201 cut off"} if crash else {201, 502}),
        f"{name}: each of 180 bookings is a 201, or a 502 if A was stopped while holding it"
        + (" (or a 201 whose body A did not live to send)" if crash else ""),
        f"{dict(statuses)}{cut_off_reasons(traffic.writes)}",
    )
    gateway_errors = [reply.body for _, _, reply in traffic.writes if outcome(reply) == 502]
    check(
        all(
            isinstance(body, dict) and body.get("code") == "service_unavailable"
            for body in gateway_errors
        ),
        f"{name}: every 502 is nginx's JSON error, not its HTML page",
        f"{len(gateway_errors)} 502s",
    )
    read_statuses = Counter(outcome(reply) for reply in traffic.reads)
    check(
        set(read_statuses) <= ({200, "200 cut off"} if crash else {200}) and 200 in read_statuses,
        f"{name}: every read is a 200 (nginx retries reads on B)"
        + (" (or one whose body A did not live to send)" if crash else ""),
        f"{dict(read_statuses)} over {len(traffic.reads)} reads",
    )
    late_answers = Counter((reply.status, reply.upstream) for reply in late)
    check(
        len(late) > 0 and set(late_answers) <= {(201, B), (200, B)},
        f"{name}: after A stopped, every request is answered by B",
        f"{len(late)} requests: {dict(late_answers)}",
    )

    rows = bookings_of(property_id)
    sent = {
        (body["check_in"], body["check_out"]): (guest, reply)
        for body, guest, reply in traffic.writes
    }
    incomplete = []
    for booking_id, (guest_id, check_in, check_out, total, status) in rows.items():
        request = sent.get((check_in.isoformat(), check_out.isoformat()))
        expected = price * (check_out - check_in).days
        matches = request is not None and (
            (request[0].id, total, status) == (guest_id, expected, "confirmed")
            and (outcome(request[1]) != 201 or request[1].body["id"] == booking_id)
        )
        if not matches:
            incomplete.append(booking_id)
    created = [reply.body["id"] for _, _, reply in traffic.writes if outcome(reply) == 201]
    cut_off = [
        (body["check_in"], body["check_out"])
        for body, _, reply in traffic.writes
        if outcome(reply) != 201
    ]
    stored = {(ci.isoformat(), co.isoformat()) for _, ci, co, _, _ in rows.values()}
    committed_but_cut_off = [key for key in cut_off if key in stored]
    check(
        not incomplete and set(created) <= set(rows),
        f"{name}: every 201 has its row, every row is complete (guest, dates, total_price)",
        f"{len(rows)} rows, {len(created)} 201s, incomplete {incomplete}",
    )
    if sig == signal.SIGTERM:
        check(
            not committed_but_cut_off and len(rows) == len(created),
            f"{name}: a graceful stop leaves no booking behind a 502",
            f"{len(cut_off)} 502s, {len(committed_but_cut_off)} of them committed",
        )
    else:
        # A crash between COMMIT and the response cannot be told from one before COMMIT by
        # the client; the database still holds either the whole booking or nothing. A 201
        # status line is only ever sent after COMMIT, so a cut-off 201 must have its row.
        cut_off_201 = [
            (body["check_in"], body["check_out"])
            for body, _, reply in traffic.writes
            if outcome(reply) == "201 cut off"
        ]
        check(
            len(rows) == len(created) + len(committed_but_cut_off)
            and all(key in stored for key in cut_off_201),
            f"{name}: rows = 201s + cut-off requests whose commit beat the crash",
            f"{len(cut_off)} cut off ({len(cut_off_201)} after their 201 status line), "
            f"{len(committed_but_cut_off)} of them committed",
        )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with db() as conn:
            stuck = count(
                conn,
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                " AND state LIKE 'idle in transaction%%'",
                [DATABASE],
            )
        if stuck == 0:
            break
        time.sleep(0.2)
    check(stuck == 0, f"{name}: no transaction left open on PostgreSQL", f"{stuck} open")


# --- Malformed requests -----------------------------------------------------------------------
HOST = b"Host: 127.0.0.1\r\n"
# name: (raw request, expected status, who refuses it). Sent as bytes on a socket through nginx:
# no HTTP client would send them.
MALFORMED = {
    "negative Content-Length": (
        b"POST /api/login/ HTTP/1.1\r\n" + HOST + b"Content-Length: -1\r\n\r\n",
        400,
        "nginx",
    ),
    "duplicate Content-Length": (
        b"POST /api/login/ HTTP/1.1\r\n"
        + HOST
        + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        400,
        "nginx",
    ),
    "control character in a header value": (
        b"GET /api/health/ HTTP/1.1\r\n" + HOST + b"X-Evil: a\x01b\r\n\r\n",
        400,
        "gunicorn",
    ),
    "control character in a header name": (
        b"GET /api/health/ HTTP/1.1\r\n" + HOST + b"X-E\x01vil: ab\r\n\r\n",
        400,
        "nginx",
    ),
    "NUL in a header value": (
        b"GET /api/health/ HTTP/1.1\r\n" + HOST + b"X-Evil: a\x00b\r\n\r\n",
        400,
        "nginx",
    ),
    "malformed request line": (
        b"GET /api/health/ HTTP/1.1 extra\r\n" + HOST + b"\r\n",
        400,
        "nginx",
    ),
    "no Host header": (b"GET /api/health/ HTTP/1.1\r\n\r\n", 400, "nginx"),
    "malformed chunked body": (
        b"POST /api/login/ HTTP/1.1\r\n" + HOST + b"Content-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        400,
        "nginx",
    ),
    "120 header fields": (
        b"GET /api/health/ HTTP/1.1\r\n"
        + HOST
        + b"".join(b"X-H%d: v\r\n" % n for n in range(120))
        + b"\r\n",
        431,
        "gunicorn",
    ),
    "a 9000-byte header": (
        b"GET /api/health/ HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n",
        431,
        "nginx",
    ),
    "a 5000-byte URI": (
        b"GET /api/properties/?location=" + b"a" * 5000 + b" HTTP/1.1\r\n" + HOST + b"\r\n",
        414,
        "gunicorn",
    ),
    "a 9000-byte URI": (
        b"GET /api/properties/?location=" + b"a" * 9000 + b" HTTP/1.1\r\n" + HOST + b"\r\n",
        414,
        "nginx",
    ),
    "a 2 MB body": (
        b"POST /api/login/ HTTP/1.1\r\n" + HOST + b"Content-Type: application/json\r\n"
        b"Content-Length: 2000000\r\n\r\n",
        413,
        "nginx",
    ),
    "unknown Transfer-Encoding": (
        b"POST /api/login/ HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: gzip\r\n\r\n",
        501,
        "nginx",
    ),
    "TRACE": (b"TRACE /api/health/ HTTP/1.1\r\n" + HOST + b"\r\n", 405, "nginx"),
    "HTTP/3.0 as text": (b"GET /api/health/ HTTP/3.0\r\n" + HOST + b"\r\n", 505, "nginx"),
}


def raw_request(payload: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are to nginx; read one answer (until its Content-Length, or until the
    connection closes)."""
    with socket.create_connection(("127.0.0.1", PORT_LB), timeout=10) as sock:
        sock.sendall(payload)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            received += chunk
            head, separator, body = received.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length: *(\d+)", head)
            if separator and length and len(body) >= int(length.group(1)):
                break
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines if ": " in line)}
    return int(status_line.split()[1]) if status_line else 0, headers, body


def proof_malformed() -> None:
    """What nginx refuses, and what it passes on and gunicorn refuses, is JSON with a detail and
    a code, never an HTML page; the app's own errors pass through untouched."""
    for name, (payload, expected, refused_by) in MALFORMED.items():
        status, headers, body = raw_request(payload)
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        check(
            status == expected
            and headers.get("content-type") == "application/json"
            and isinstance(answer, dict)
            and set(answer) == {"detail", "code"},
            f"malformed: {name} is a {expected} in the JSON error shape ({refused_by} refuses it)",
            f"{status} {headers.get('content-type')} {body[:80]!r}",
        )
    status, _, body = raw_request(
        b"POST /api/login/ HTTP/1.1\r\n" + HOST + b"Content-Type: application/json\r\n"
        b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
    )
    answer = json.loads(body)
    check(
        status == 400 and answer["code"] == "validation_error" and "errors" in answer,
        "malformed: the app's own 400 passes through nginx with its field errors",
        f"{status} {answer}",
    )


# --- Logs ---------------------------------------------------------------------------------------
def proof_access_logs() -> None:
    lines = []
    for log in sorted(TMP.glob("*.access.log")):
        lines += [line for line in log.read_text().splitlines() if line.strip()]
    parsed, broken = [], []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            broken.append(line)
    proxied = [e for e in parsed if e["forwarded_for"] != "-"]
    well_formed = all(
        (e["forwarded_for"], bool(re.fullmatch(r"[0-9a-f]{32}", e["request_id"])))
        == ("127.0.0.1", True)
        for e in proxied
    )
    check(
        not broken and len(parsed) > 0 and len(proxied) > 0 and well_formed,
        "logs: every gunicorn access log line is JSON; proxied ones carry nginx's request id",
        f"{len(parsed)} lines, {len(proxied)} proxied, {len(broken)} broken",
    )


# --- Main ---------------------------------------------------------------------------------------
def run() -> None:
    started = time.monotonic()
    admin_sql(f'CREATE DATABASE "{DATABASE}"')
    (TMP / "database").write_text(DATABASE)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=app_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if migrate.returncode != 0:
        raise SetupError(f"migrate failed:\n{migrate.stdout}{migrate.stderr}")
    start_instance("a", PORT_A)
    start_instance("b", PORT_B)
    start_nginx()
    note(
        f"database {DATABASE}, Redis {REDIS_URL} prefix {CACHE_PREFIX}; A :{PORT_A}, B :{PORT_B},"
        f" nginx :{PORT_LB}; {WORKERS} workers each; up in {time.monotonic() - started:.1f} s"
    )

    sampler = ConnectionSampler()
    sampler.start()
    host = register(PORT_LB, f"host_{RUN[-6:]}")
    storm_price, term_price, kill_price = Decimal("87.50"), Decimal("120.25"), Decimal("99.99")
    storm_property = create_property(host, "Storm target", str(storm_price))
    term_property = create_property(host, "Graceful stop target", str(term_price))
    kill_property = create_property(host, "Crash target", str(kill_price))
    with ThreadPoolExecutor(max_workers=8) as pool:
        guests = list(
            pool.map(lambda n: register(PORT_LB, f"guest{n}_{RUN[-6:]}"), range(STORM_SIZE))
        )
    note(f"{len(guests)} guests registered through nginx")

    phase = time.monotonic()
    proof_storm(guests, storm_property, storm_price)
    connections = app_connections()
    check(
        connections <= 2 * WORKERS,
        f"connections: at most one per worker (<= 2 x {WORKERS}) after the storm",
        f"{connections} server connections",
    )
    note(f"storm phase {time.monotonic() - phase:.1f} s")
    proof_revocation()
    proof_throttling()
    proof_shared_count(host)
    proof_malformed()

    phase = time.monotonic()
    proof_stop("SIGTERM", signal.SIGTERM, guests, term_property, term_price)
    note(f"SIGTERM phase {time.monotonic() - phase:.1f} s")
    start_instance("a", PORT_A)
    wait_back_in_rotation(A)
    phase = time.monotonic()
    proof_stop("SIGKILL", signal.SIGKILL, guests, kill_property, kill_price)
    note(f"SIGKILL phase {time.monotonic() - phase:.1f} s")
    sampler.stopped.set()
    sampler.join(timeout=5)
    note(f"peak server connections to the database during the run: {sampler.peak}")
    proof_access_logs()
    note(f"total {time.monotonic() - started:.1f} s")


def cleanup() -> None:
    for name in list(children):
        stop(name, wait=20)
    try:
        admin_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    except psycopg.Error as exc:
        print(f"cleanup: could not drop {DATABASE}: {exc}", file=sys.stderr)
    try:
        client = redis_client()
        keys = list(client.scan_iter(match=f"{CACHE_PREFIX}:*", count=500))
        if keys:
            client.delete(*keys)
    except redis.RedisError as exc:
        print(f"cleanup: could not delete Redis keys {CACHE_PREFIX}:*: {exc}", file=sys.stderr)
    PIDFILE.unlink(missing_ok=True)


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)


def main() -> int:
    TMP.mkdir(mode=0o711, parents=True, exist_ok=True)
    TMP.chmod(0o711)  # nginx's workers run as nobody and must reach their temp directories
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    try:
        run()
    except (
        SetupError,
        psycopg.Error,
        redis.RedisError,
        OSError,
        subprocess.SubprocessError,
    ) as exc:
        check(False, f"setup: {exc}")
    finally:
        cleanup()
    failed = [name for passed, name in results if not passed]
    print(f"\ncluster test: {len(results) - len(failed)} passed, {len(failed)} failed")
    if os.environ.get("CLUSTER_COUNTS"):  # .ci/run adds these to the run's total
        Path(os.environ["CLUSTER_COUNTS"]).write_text(
            f"{len(results) - len(failed)} {len(failed)}\n"
        )
    if failed:
        print(f"logs kept in {TMP}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
