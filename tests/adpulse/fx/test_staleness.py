"""The stale-rate metrics, from a real embedded ClickHouse."""

from datetime import UTC, date, datetime
from decimal import Decimal

import clickhouse_connect
from prometheus_client import REGISTRY

from adpulse.fx.rates import FxRate, FxStore
from adpulse.fx.staleness import refresh
from schemas.migrate import migrate


class FixedClock:
    def __init__(self, day: date) -> None:
        self.ms = int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp() * 1000)

    def now_ms(self) -> int:
        return self.ms

    def monotonic(self) -> float:
        return 0.0


def test_rate_ages_and_stale_currencies(tmp_path):
    client = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path}")
    migrate(client, "st")
    store = FxStore(client, "st")
    store.upsert([FxRate(date(2026, 1, 1), "EUR", Decimal("1.1")), FxRate(date(2026, 1, 9), "JPY", Decimal("0.0067"))])
    client.insert("st.events", [["00000000-0000-7000-8000-000000000001", "conversion", datetime(2026, 1, 9),
                                 Decimal(5), "GBP"],
                                ["00000000-0000-7000-8000-000000000002", "conversion", datetime(2026, 1, 9),
                                 Decimal(5), "USD"]],
                  column_names=["event_id", "event_type", "received_at", "revenue", "currency"])  # fmt: skip
    # EUR 9 days old, GBP none; USD is the reporting currency (needs no rate).
    assert refresh(store, FixedClock(date(2026, 1, 10)), max_age_days=7, reporting_currency="USD") == 2
    age = REGISTRY.get_sample_value
    assert age("adpulse_fx_rate_age_days", {"currency": "EUR"}) == 9
    assert age("adpulse_fx_rate_age_days", {"currency": "JPY"}) == 1
    assert age("adpulse_fx_rate_age_days", {"currency": "GBP"}) == -1
    assert age("adpulse_fx_stale_currencies") == 2
    assert age("adpulse_fx_rate_age_days", {"currency": "USD"}) is None
    assert [r.currency for r in store.between(date(2026, 1, 5), None, 10)] == ["JPY"]
    client.close()
