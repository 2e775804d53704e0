"""Offline-conversion import files from the real stack (click with gclid/msclkid -> postback -> CSV)."""

from __future__ import annotations

import csv
import io
import uuid

import httpx
import pytest

from tests.integration.test_deliver import click, postback, wait_for

pytestmark = pytest.mark.integration


def test_google_and_microsoft_exports_list_approved_conversions_with_their_click_ids(stack):
    gclid, msclkid = f"Cj0-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    click_id, _ = click(stack, "itexport", gclid=gclid, msclkid=msclkid)
    txid, rejected_txid = f"X-{uuid.uuid4().hex[:8]}", f"X-{uuid.uuid4().hex[:8]}"
    postback(stack, click_id, txid, payout="7.25")
    other, _ = click(stack, "itexport", gclid=f"{gclid}-b")
    postback(stack, other, rejected_txid, status="rejected")

    def rows(platform: str) -> list[list[str]]:
        response = httpx.get(f"{stack.api}/v1/exports/{platform}.csv", params={"conversion_name": "Purchase"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        return list(csv.reader(io.StringIO(response.text)))

    google = wait_for(lambda: [r for r in rows("google-ads") if txid in r])
    assert google[0][:2] == [gclid, "Purchase"] and google[0][3:] == ["7.25", "EUR", txid]
    assert not [r for r in rows("google-ads") if rejected_txid in r]
    microsoft = [r for r in rows("microsoft-ads") if txid in r]
    assert microsoft[0][0] == "Offline Conversion" and microsoft[0][-1] == msclkid and microsoft[0][9] == "7.25"


def test_export_refuses_bad_requests_naming_the_field(stack):
    missing = httpx.get(f"{stack.api}/v1/exports/google-ads.csv")
    assert missing.status_code == 422 and missing.json()["field"] == "conversion_name"
    window = httpx.get(
        f"{stack.api}/v1/exports/google-ads.csv",
        params={"conversion_name": "P", "since": "2026-01-01", "until": "2026-12-01"},
    )
    assert window.status_code == 422 and window.json()["field"] == "since"
    assert httpx.get(f"{stack.api}/v1/exports/yahoo.csv", params={"conversion_name": "P"}).status_code == 404
