"""The report benchmark's harness on a small load: every report answers with the rows its data implies."""

from loadtests.bench_reports import REPORTS, measure, summary


def test_small_run_answers_every_report():
    results = measure(events=30_000, repeat=1)
    assert results["events"] == 30_000 and results["rollup_rows"]["kpi_visitors"] > 0
    assert results["campaign_30d"]["rows"] == 20
    assert results["day_30d"]["rows"] == 30
    assert 0 < results["hour_7d_one_campaign"]["rows"] <= 7 * 24
    assert 0 < results["campaign_sub1_30d_berlin"]["rows"] <= 20 * 1000
    assert all(results[name]["median_ms"] >= 0 for name in REPORTS)
    assert "campaign_30d" in summary(results)
