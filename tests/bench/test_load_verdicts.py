"""The load run's verdicts (bench/load_bench.py): an error of any kind fails it, a missed
target is named, and the web process's own complaints count as errors. The run itself, with
real servers, is smoke-run by test_benches_run.py; these feed its report known figures."""

from __future__ import annotations

from bench import http_harness as harness
from bench import load_bench


def _measured(name: str, rate: float, ratio: float | None = None, **errors: int) -> harness.Page:
    page = harness.Page(name, 1, "localhost", "/")
    page.rates, page.p50, page.p95, page.p99 = [rate], [10.0], [20.0], [30.0]
    page.requests = int(rate * 60)
    if ratio is not None:
        page.ratios = [ratio]
    for kind, count in errors.items():
        setattr(page, kind, count)
    return page


def _every_page(ratio: float, **errors: int) -> list[harness.Page]:
    bare = _measured("bare Django, first", 1000)
    pages = [_measured(name, 1000 * ratio, ratio) for name in load_bench.TARGETS]
    for kind, count in errors.items():
        setattr(pages[-1], kind, count)
    return [bare, *pages, _measured("bare Django, last", 1000)]


def test_a_clean_run_at_the_targets_passes(capsys):
    errors, misses = load_bench.report(_every_page(0.5), [])
    out = capsys.readouterr().out
    assert (errors, misses) == (0, 0)
    assert "Errors: 0 (PASS)" in out
    assert "Targets met: 6 of 6" in out
    assert "MISS" not in out


def test_timeouts_status_and_socket_errors_all_fail_the_run(capsys):
    pages = _every_page(0.5, timeouts=2, status_errors=1, socket_errors=4)
    errors, _ = load_bench.report(pages, [])
    out = capsys.readouterr().out
    assert errors == 7
    assert "Errors: 7 (FAIL)" in out
    assert "7 (1/4/2)" in out  # status / socket / timeout, on the staff queue's line


def test_a_missed_target_is_named_with_its_ratio(capsys):
    pages = _every_page(0.5)
    pages[-2].ratios = [0.02]  # the staff queue, target 0.15
    errors, misses = load_bench.report(pages, [])
    out = capsys.readouterr().out
    assert (errors, misses) == (0, 1)
    assert "staff queue 0.02 < 0.15" in out
    assert ">= 0.15 MISS" in out


def test_the_web_processs_complaints_count_as_errors(tmp_path, capsys):
    log = tmp_path / "portal.log"
    log.write_text(
        "INFO [abc] portal.requests: GET archive 200 12.0ms\n"
        "[2026-12-07 18:00:00 +0000] [12] [CRITICAL] WORKER TIMEOUT (pid:13)\n"
    )
    before = log.stat().st_size
    with log.open("a") as more:
        more.write("INFO [def] portal.requests: GET home 200 9.1ms\n")
        more.write("ERROR [ghi] django.request: Internal Server Error: /archive/\n")
        more.write("Traceback (most recent call last):\n")
    trouble = harness.server_trouble(log, before)
    assert len(trouble) == 2  # only what came after ``before``; request lines are not trouble
    assert len(harness.server_trouble(log)) == 3
    errors, _ = load_bench.report(_every_page(0.5), trouble)
    assert errors == 2
    assert "server trouble: ERROR [ghi]" in capsys.readouterr().out
