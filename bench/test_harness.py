"""The benchmark driver's own logic, without wrk or a server: the data it hands to Lua and the
report it writes. (`make bench-quick` exercises the rest end to end.)"""

import shutil
import subprocess

import pytest

from bench import run


def _row(name, statuses, **overrides):
    return {
        "scenario": name,
        "title": name.replace("_", " "),
        "connections": 32,
        "requests_per_second": 1234.5,
        "latency_us": {"p50": 1500, "p95": 9000, "p99": 12345},
        "errors": {"connect": 0, "read": 1, "write": 0, "timeout": 2, "status": 0},
        "statuses": statuses,
        "app_cpu_ms_per_request": 1.5,
        "db_cpu_ms_per_request": 0.25,
        "server_cpu_seconds": 10.0,
        "db_cpu_seconds": 2.0,
        "cache_cpu_ms_per_request": 0.1,
        "cache_cpu_seconds": 0.4,
        "wrk_cpu_seconds": 0.5,
        "other_cpu_seconds": 1.0,
        "load_before": [0.5, 0.25, 0.1],
        **overrides,
    }


def test_lua_value_renders_nested_tables_and_escapes_strings():
    value = {"ids": [1, 2], "name": 'a "b"\n\\', "ok": True, "rate": 0.5}

    assert run.lua_value(value) == (
        '{["ids"]={1,2},["name"]="a \\034b\\034\\010\\092",["ok"]=true,["rate"]=0.5}'
    )


@pytest.mark.skipif(shutil.which("luajit") is None, reason="luajit is not installed")
def test_lua_value_is_read_back_by_lua(tmp_path):
    data = {"tokens": ["x.y.z", 'q"\\\u00fc'], "nested": {"n": 7}}
    path = tmp_path / "data.lua"
    path.write_text("return " + run.lua_value(data) + "\n")

    printed = subprocess.run(
        ["luajit", "-e", f"local d = dofile('{path}') print(d.tokens[2], d.nested.n)"],
        capture_output=True,
        text=True,
        check=True,
    )

    assert printed.stdout == 'q"\\\u00fc\t7\n'


def test_non_2xx_lists_every_other_status_in_order():
    assert run.non_2xx({"201": 1, "409": 2816, "200": 4, "500": 3}) == "409: 2816, 500: 3"
    assert run.non_2xx({"200": 10}) == "none"


def test_table_row_shows_rates_percentiles_errors_and_cpu():
    table = run.markdown_table({"scenarios": [_row("booking_storm", {"201": 1, "409": 99})]})

    assert table.splitlines()[2] == (
        "| booking storm | 32 | 1,234 | 1.5 | 9.0 | 12.3 | 3 | 409: 99 | 1.5 / 0.25 / 0.1 | "
        "10.0 / 2.0 / 0.4 / 0.5 / 1.0 | 0.5 0.25 0.1 |"
    )


def test_doc_block_is_replaced_in_place(tmp_path, monkeypatch):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\nbefore\n\n{run.DOC_BEGIN}\nold run\n{run.DOC_END}\n\nafter\n")
    monkeypatch.setattr(run, "DOC", doc)
    report = {
        "run_id": "abc123",
        "started_at": "2030-01-01 00:00 UTC",
        "revision": "deadbee",
        "profile": "full",
        "results_file": "bench/results/x.json",
        "load_start": [1.0, 1.0, 1.0],
        "load_end": [2.0, 2.0, 2.0],
        "settings": {
            "seed": {"users": 2000, "properties": 100_000, "bookings": 300_000},
            "duration": 20,
            "warmup": 5,
            "workers": "4",
            "threads": "1",
            "conn_max_age": "60",
            "cache": "REDIS_URL set (RESPONSE_CACHE_SECONDS=60 (default))",
        },
        "storm_check": {
            "bookings_in_database": 1,
            "responses_201": 1,
            "responses_5xx": 0,
            "ok": True,
        },
        "machine": {
            "cpu": "cpu",
            "cores": 2,
            "memory_gib": 24.0,
            "kernel": "6",
            "python": "3.11",
            "wrk": "wrk 4",
        },
        "versions": {
            "django": "5.2",
            "djangorestframework": "3",
            "gunicorn": "2",
            "postgresql": "15",
        },
        "scenarios": [_row("detail", {"200": 5})],
    }

    run.write_doc(report)
    run.write_doc(report)

    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\nbefore\n\n")
    assert text.endswith("\n\nafter\n")
    assert "old run" not in text
    assert text.count(run.DOC_BEGIN) == 1
    assert "100,000 properties" in text
    assert "**pass**" in text
    assert "REDIS_URL set (RESPONSE_CACHE_SECONDS=60 (default))." in text


def test_the_driver_knows_the_apis_booking_horizon():
    from core.stays import MAX_DAYS_AHEAD

    assert run.API_HORIZON_DAYS == MAX_DAYS_AHEAD


def test_runs_that_would_book_past_the_horizon_are_refused():
    scenarios = [run.Scenario("create_booking", "create booking"), run.Scenario("mixed", "mixed")]
    roomy = {"bookable_ids": list(range(90_000)), "free_from_day": 414}
    cramped = {"bookable_ids": list(range(500)), "free_from_day": 414}

    run.check_horizon(roomy, scenarios, warmup=True)  # 80,000 slots: one week ahead
    with pytest.raises(SystemExit, match="past the API's horizon of 730"):
        run.check_horizon(cramped, scenarios, warmup=True)
