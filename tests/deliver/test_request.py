from __future__ import annotations

from deliver.request import redact_url


def test_secrets_are_removed_from_logged_urls() -> None:
    url = "https://user:pw@graph.example:8443/v21.0/1/events?access_token=EAAB&api_secret=s3&x=1&key=k&sig=ab"
    logged = redact_url(url)
    assert "EAAB" not in logged and "s3" not in logged and "pw" not in logged and "=k" not in logged
    assert logged.startswith("https://graph.example:8443/v21.0/1/events?") and "x=1" in logged
