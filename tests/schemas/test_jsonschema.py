import orjson

from schemas.jsonschema import event_schema, path


def test_committed_schema_matches_the_model():
    assert orjson.loads(path().read_bytes()) == event_schema(), "run `adpulse schema` and commit the result"


def test_schema_forbids_unknown_fields_and_floats_for_money():
    schema = event_schema()
    assert schema["additionalProperties"] is False
    payout_types = {option.get("type") for option in schema["properties"]["payout"]["anyOf"]}
    assert payout_types == {"string", "null"}
