from __future__ import annotations

import pytest

from adpulse.settings import SettingsError, load_settings
from deliver.config import MACROS, template_macros


def test_every_documented_macro_is_accepted() -> None:
    template = "https://s.example/pb?" + "&".join(f"{name}={{{name}}}" for name in MACROS)
    assert template_macros(template) == list(MACROS)


def test_unknown_macro_refuses_the_configuration_naming_it() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(source_postbacks={"pop": {"url": "https://s.example/pb?cid={clickid}"}})
    message = str(caught.value)
    assert "ADPULSE_SOURCE_POSTBACKS" in message and "{clickid}" in message and "click_id" in message


@pytest.mark.parametrize("url", ["https://s.example/?x={click_id!r}", "https://s.example/?x={payout:.2f}", "ftp://x/"])
def test_bad_templates_are_refused(url: str) -> None:
    with pytest.raises(SettingsError):
        load_settings(source_postbacks={"pop": {"url": url}})


def test_defaults_and_secrets_stay_out_of_repr() -> None:
    settings = load_settings(
        source_postbacks={"pop": {"url": "https://s.example/?c={click_id}"}},
        meta_capi={"fb": {"pixel_id": "123456789", "access_token": "EAAB-secret-token"}},
    )
    pop = settings.source_postbacks["pop"]
    assert [s.value for s in pop.statuses] == ["approved"] and pop.method == "GET" and pop.payout_percent == 100
    assert "EAAB-secret-token" not in repr(settings) and "EAAB-secret-token" not in str(settings.meta_capi)
