import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SHOW = "from django.conf import settings as s; print({})"


def _manage(*args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    """manage.py in a clean configuration: no .env, no key file, a key unless SECRET_KEY=None;
    a variable given as None is left unset."""
    unset = {"SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "ENV_FILE"}
    environment: dict[str, str | None] = {k: v for k, v in os.environ.items() if k not in unset}
    environment.update(
        ENV_FILE=os.devnull,
        SECRET_KEY_FILE=str(ROOT / "no-such-key-file"),
        SECRET_KEY="settings-test-key-not-for-production-0123456789abcdefghijklmnopqrstuv",
    )
    environment.update(env, DJANGO_SETTINGS_MODULE="config.settings.base")
    clean = {k: v for k, v in environment.items() if v is not None}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _show(expression: str, **env) -> str:
    result = _manage("shell", "-v", "0", "-c", SHOW.format(expression), **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_without_secret_key_refuses_to_start():
    result = _manage("check", SECRET_KEY=None)

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is false" in result.stderr


def test_debug_is_off_unless_asked_for():
    assert _show("s.DEBUG") == "False"
    assert _show("s.DEBUG", DEBUG="true") == "True"


def test_secret_key_comes_from_the_key_file_unless_the_environment_sets_one(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("from-the-file-0123456789abcdefghijklmnopqrstuvwxyz\n")

    from_file = _show("s.SECRET_KEY", SECRET_KEY=None, SECRET_KEY_FILE=str(key_file))
    from_env = _show("s.SECRET_KEY", SECRET_KEY="from-the-env", SECRET_KEY_FILE=str(key_file))

    assert from_file == "from-the-file-0123456789abcdefghijklmnopqrstuvwxyz"
    assert from_env == "from-the-env"


def test_an_empty_key_file_refuses_to_start(tmp_path):
    (tmp_path / "key").write_text("\n")

    result = _manage("check", SECRET_KEY=None, SECRET_KEY_FILE=str(tmp_path / "key"))

    assert result.returncode != 0
    assert "is empty" in result.stderr


def test_debug_without_any_key_uses_the_development_key():
    assert _show("s.SECRET_KEY", SECRET_KEY=None, DEBUG="true").startswith("django-insecure-")


def test_dotenv_file_is_read_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\n"
        "export LOG_LEVEL=warning\n"
        'JWT_SIGNING_KEY="a$b ${NOT_EXPANDED}"\n'
        "IDEMPOTENCY_KEY_HOURS=12\n"
    )

    shown = _show(
        "s.LOG_LEVEL, s.IDEMPOTENCY_KEY_HOURS, s.SIMPLE_JWT['SIGNING_KEY']",
        ENV_FILE=str(dotenv),
        IDEMPOTENCY_KEY_HOURS="48",
    )

    assert shown == "WARNING 48 a$b ${NOT_EXPANDED}"


def test_deploy_check_is_clean_with_production_values():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="k9$Zq2!vX7@pL4#mN8&rT1*wY6^bC3%hJ5(eF0)gD-a7Vw3Qs9Lx2Kd8",
        ALLOWED_HOSTS="api.example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


CACHE_BACKEND = (
    "from django.conf import settings; c = settings.CACHES['default']; "
    "print(c['BACKEND'], c.get('LOCATION', '-'), c.get('KEY_PREFIX', '-'))"
)


SHARED_CACHE_BACKEND = CACHE_BACKEND.replace("CACHES['default']", "CACHES['shared']")


def test_without_redis_url_each_process_has_its_own_memory_cache():
    result = _manage("shell", "-v", "0", "-c", CACHE_BACKEND, REDIS_URL="")
    shared = _manage("shell", "-v", "0", "-c", SHARED_CACHE_BACKEND, REDIS_URL="")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.cache.backends.locmem.LocMemCache", "-", "-"]
    # ...while what every process must agree on goes to a database table.
    assert shared.stdout.split() == [
        "django.core.cache.backends.db.DatabaseCache",
        "core_shared_cache",
        "-",
    ]


def test_redis_url_shares_the_cache_under_a_key_prefix():
    result = _manage(
        "shell",
        "-v",
        "0",
        "-c",
        CACHE_BACKEND,
        REDIS_URL="redis://cache.internal:6379/3",
        CACHE_KEY_PREFIX="b1",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "core.cache.PrefixedRedisCache",
        "redis://cache.internal:6379/3",
        "b1",
    ]
    shared = _manage(
        "shell",
        "-v",
        "0",
        "-c",
        SHARED_CACHE_BACKEND,
        REDIS_URL="redis://cache.internal:6379/3",
        CACHE_KEY_PREFIX="b1",
    )
    assert shared.stdout.split() == result.stdout.split()


def _gunicorn_config(**env) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"PORT", "WEB_CONCURRENCY"}}
    environment.update(env)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--print-config",
            "-c",
            "gunicorn.conf.py",
            "config.wsgi:application",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pairs = (line.split(" = ", 1) for line in result.stdout.splitlines() if " = " in line)
    return {name.strip(): value.strip() for name, value in pairs}


def test_gunicorn_binds_loopback_on_port_with_workers_from_the_environment():
    config = _gunicorn_config(PORT="18123", WEB_CONCURRENCY="3")

    assert config["bind"] == "['127.0.0.1:18123']"
    assert config["workers"] == "3"
    assert (config["max_requests"], config["max_requests_jitter"]) == ("1000", "100")
    assert (config["timeout"], config["graceful_timeout"]) == ("30", "30")
    # Two instances on one host must not share gunicorn's per-user control socket.
    assert config["control_socket_disable"] == "True"


def test_gunicorn_workers_default_to_twice_the_usable_cpus():
    config = _gunicorn_config()

    assert config["workers"] == str(2 * len(os.sched_getaffinity(0)))
    assert config["bind"] == "['127.0.0.1:8000']"


def test_pgbouncer_transaction_mode_can_turn_server_side_cursors_and_prepared_statements_off():
    show = (
        "import psycopg; from django.db import connection as c; p = c.get_connection_params();"
        " print(c.settings_dict['DISABLE_SERVER_SIDE_CURSORS'], p['prepare_threshold'],"
        " issubclass(p['cursor_factory'], psycopg.ClientCursor),"
        " c.settings_dict['PREPARED_STATEMENTS'])"
    )
    url = "postgres://app@pgbouncer.internal:6432/booking"

    default = _manage("shell", "-v", "0", "-c", show, DATABASE_URL=url)
    pooled = _manage(
        "shell",
        "-v",
        "0",
        "-c",
        show,
        DATABASE_URL=url,
        DISABLE_SERVER_SIDE_CURSORS="true",
        DATABASE_PREPARED_STATEMENTS="false",
    )

    # Django's own queries never prepare: Django binds parameters on the client and passes
    # prepare_threshold=None (django-prometheus wraps the cursor class; it stays a
    # client-binding cursor). Only the hot look-ups are prepared (in SQL, by the backend), unless
    # DATABASE_PREPARED_STATEMENTS=false (core/tests/test_prepared_statements.py).
    assert default.stdout.split() == ["False", "None", "True", "True"], default.stderr
    assert pooled.stdout.split() == ["True", "None", "True", "False"], pooled.stderr


def _response_cache_seconds(**env) -> str:
    environment = {"REDIS_URL": "", **env}
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.RESPONSE_CACHE_SECONDS)",
        **environment,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # after the shell's own banner


def test_responses_are_cached_only_with_redis():
    # Memory caches are per process and a database table costs what it saves: without Redis
    # the response cache stays off whatever the variable says.
    assert _response_cache_seconds(RESPONSE_CACHE_SECONDS="60") == "0"
    assert _response_cache_seconds(REDIS_URL="redis://127.0.0.1:6379/0") == "60"
    assert (
        _response_cache_seconds(REDIS_URL="redis://127.0.0.1:6379/0", RESPONSE_CACHE_SECONDS="0")
        == "0"
    )
