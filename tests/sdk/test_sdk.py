"""mockd driven only through the published Python SDK (``toolkitapi==2.0.0b3``), as shipped.

No monkeypatching, no subclassing, no raw HTTP here: every request is one an SDK user would send.
What the SDK puts on the wire is pinned separately in ``test_wire.py``.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from toolkitapi import (
    APIError,
    AuthenticationError,
    NotFoundError,
    RateLimitError,
    ServerError,
    ValidationError,
    Webhook,
)

MOCK_FIELDS = {
    "mock_id",
    "name",
    "status_code",
    "content_type",
    "delay_ms",
    "has_custom_headers",
    "has_body",
    "created_at",
    "expires_at",
    "hit_count",
    "endpoint_url",
}

# A well-formed id (22 characters of URL-safe base64) that no mock has.
UNKNOWN_ID = "AAAAAAAAAAAAAAAAAAAAAA"

# hit_mock* methods whose request reaches the server, with the method they send.
WIRE_HITS = [("hit_mock", "DELETE"), ("hit_mock_3", "POST"), ("hit_mock_7", "GET")]

# hit_mock* methods that fail inside the SDK before sending: its _APIClient has no such method.
SDK_BROKEN_HITS = [
    ("hit_mock_2", "options"),
    ("hit_mock_4", "head"),
    ("hit_mock_5", "patch"),
    ("hit_mock_6", "put"),
]


def parse_time(text: str) -> datetime:
    assert text.endswith("Z"), text
    parsed = datetime.fromisoformat(text[:-1] + "+00:00")
    assert parsed.tzinfo == timezone.utc
    return parsed


def create(client: Webhook, **body) -> dict:
    created = client.create_mock(body=body)
    assert set(created) == {"mock"}
    return created["mock"]


def hits(client: Webhook, mock_id: str) -> int:
    return client.get_mock(mock_id)["mock"]["hit_count"]


# ---- create / get / delete ---------------------------------------------------------------------


def test_create_returns_the_mock(webhook):
    before = datetime.now(timezone.utc)
    mock = create(
        webhook,
        name="orders-v2 ✓",
        status_code=201,
        body='{"id": 7}',
        content_type="application/json; charset=utf-8",
        headers={"X-Trace": "abc"},
        delay_ms=5,
        ttl_seconds=120,
    )
    after = datetime.now(timezone.utc)
    assert set(mock) == MOCK_FIELDS
    assert len(mock["mock_id"]) == 22
    assert mock["name"] == "orders-v2 ✓"
    assert mock["status_code"] == 201
    assert mock["content_type"] == "application/json; charset=utf-8"
    assert mock["delay_ms"] == 5
    assert mock["has_custom_headers"] is True
    assert mock["has_body"] is True
    assert mock["hit_count"] == 0
    assert mock["endpoint_url"] == f"/v1/mock/{mock['mock_id']}"
    created, expires = parse_time(mock["created_at"]), parse_time(mock["expires_at"])
    assert before - timedelta(seconds=1) <= created <= after + timedelta(seconds=1)
    assert expires - created == timedelta(seconds=120)


def test_create_with_empty_object_uses_defaults(webhook):
    # The SDK drops None values from a dict body, so name=None never reaches the wire.
    mock = create(webhook, name=None)
    assert mock["name"] is None
    assert mock["status_code"] == 200
    assert mock["content_type"] == "application/json"
    assert mock["delay_ms"] == 0
    assert mock["has_custom_headers"] is False
    assert mock["has_body"] is False
    assert parse_time(mock["expires_at"]) - parse_time(mock["created_at"]) == timedelta(
        seconds=3600
    )


def test_create_without_body_uses_defaults(webhook):
    """``create_mock()`` is the SDK's documented no-argument call (``body`` defaults to None).

    The SDK then sends ``POST /v1/mocks`` with ``Content-Length: 0`` and no Content-Type. Every
    create field is optional, so this should create a mock with all defaults, as ``{}`` does.
    Fails while mockd answers 422 ``body: invalid JSON: EOF while parsing ...`` (see README).
    """
    created = webhook.create_mock()
    mock = created["mock"]
    assert mock["status_code"] == 200
    assert mock["has_body"] is False
    webhook.delete_mock(mock["mock_id"])


def test_get_mock_returns_the_same_metadata(webhook):
    mock = create(webhook, name="get-me", status_code=204)
    got = webhook.get_mock(mock["mock_id"])
    assert set(got) == {"mock"}
    assert got["mock"] == mock


def test_delete_mock_then_everything_is_not_found(webhook):
    mock_id = create(webhook, body='{"x": 1}')["mock_id"]
    assert webhook.delete_mock(mock_id) == {"message": "Mock deleted", "mock_id": mock_id}
    with pytest.raises(NotFoundError, match="^mock not found$"):
        webhook.get_mock(mock_id)
    with pytest.raises(NotFoundError, match="^mock not found$"):
        webhook.delete_mock(mock_id)
    with pytest.raises(NotFoundError, match="^mock not found$"):
        webhook.hit_mock_7(mock_id)


def test_unknown_and_malformed_ids_are_not_found(webhook):
    for mock_id in (UNKNOWN_ID, "not-an-id", "a b/&c?d#e"):
        with pytest.raises(NotFoundError, match="^mock not found$"):
            webhook.get_mock(mock_id)
        with pytest.raises(NotFoundError, match="^mock not found$"):
            webhook.delete_mock(mock_id)
        for name, _ in WIRE_HITS:
            with pytest.raises(NotFoundError, match="^mock not found$"):
                getattr(webhook, name)(mock_id)


# ---- hitting mocks -----------------------------------------------------------------------------


@pytest.mark.parametrize("method_name,http_method", WIRE_HITS)
def test_wire_hit_returns_configured_body_and_counts(webhook, method_name, http_method):
    mock_id = create(
        webhook, status_code=200, body=json.dumps({"served": True, "items": [1, 2, 3]})
    )["mock_id"]
    hit = getattr(webhook, method_name)
    for n in range(1, 4):
        assert hit(mock_id) == {"served": True, "items": [1, 2, 3]}
        assert hits(webhook, mock_id) == n


@pytest.mark.parametrize("method_name,http_method", WIRE_HITS)
@pytest.mark.parametrize(
    "status,error,detail",
    [
        (404, NotFoundError, "configured 404"),
        (409, APIError, "configured 409"),
        (418, APIError, "configured 418"),
        (422, ValidationError, "configured 422"),
        (401, AuthenticationError, "configured 401"),
        (500, ServerError, "configured 500"),
        (503, ServerError, "configured 503"),
    ],
)
def test_wire_hit_error_status_reaches_the_caller(
    webhook, method_name, http_method, status, error, detail
):
    mock_id = create(webhook, status_code=status, body=json.dumps({"detail": detail}))["mock_id"]
    with pytest.raises(error) as info:
        getattr(webhook, method_name)(mock_id)
    if error is APIError:
        assert info.value.status_code == status
        assert info.value.detail == detail
    else:
        assert str(info.value) == detail
    assert hits(webhook, mock_id) == 1


@pytest.mark.parametrize("method_name,missing", SDK_BROKEN_HITS)
def test_sdk_hit_method_fails_before_sending(webhook, method_name, missing):
    """SDK limitation: these methods call ``_APIClient.<missing>``, which does not exist."""
    mock_id = create(webhook, body='{"never": "served"}')["mock_id"]
    with pytest.raises(AttributeError, match=f"'_APIClient' object has no attribute '{missing}'"):
        getattr(webhook, method_name)(mock_id)
    assert hits(webhook, mock_id) == 0


def test_each_wire_hit_method_counts_once(webhook):
    mock_id = create(webhook, body='{"ok": true}')["mock_id"]
    expected = 0
    for name, _ in WIRE_HITS:
        assert getattr(webhook, name)(mock_id) == {"ok": True}
        expected += 1
    for name, _ in SDK_BROKEN_HITS:
        with pytest.raises(AttributeError):
            getattr(webhook, name)(mock_id)
    assert hits(webhook, mock_id) == expected == 3


def test_hit_count_is_exact_under_concurrency(webhook, make_webhook):
    mock_id = create(webhook, body='{"n": 1}')["mock_id"]
    threads_n, per_thread = 4, 25
    failures = []

    def worker():
        client = make_webhook()
        try:
            for i in range(per_thread):
                name = WIRE_HITS[i % len(WIRE_HITS)][0]
                assert getattr(client, name)(mock_id) == {"n": 1}
        except Exception as exc:  # reported below; a thread's exception would be lost
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert hits(webhook, mock_id) == threads_n * per_thread


def test_non_json_body_is_served_but_the_sdk_cannot_decode_it(webhook):
    """SDK limitation: on 2xx the SDK always calls ``response.json()``."""
    text_id = create(webhook, content_type="text/plain", body="hello")["mock_id"]
    empty_id = create(webhook, status_code=204)["mock_id"]
    for mock_id in (text_id, empty_id):
        with pytest.raises(json.JSONDecodeError):
            webhook.hit_mock_7(mock_id)
        assert hits(webhook, mock_id) == 1


def test_sdk_error_detail_extraction_from_mock_bodies(webhook):
    """What the SDK makes of error bodies: ``detail``, else ``message``, else raw text, else a
    default of its own."""
    cases = [
        ({"status_code": 503, "body": '{"message": "down for maintenance"}'}, ServerError,
         "down for maintenance"),
        ({"status_code": 500, "content_type": "text/plain", "body": "boom"}, ServerError, "boom"),
        ({"status_code": 500, "body": '{"error": "x"}'}, ServerError, "Internal server error."),
        ({"status_code": 404}, NotFoundError, "Resource not found."),
    ]
    for body, error, message in cases:
        mock_id = create(webhook, **body)["mock_id"]
        with pytest.raises(error) as info:
            webhook.hit_mock_7(mock_id)
        assert str(info.value) == message
        assert hits(webhook, mock_id) == 1


# ---- status and root ---------------------------------------------------------------------------


def test_status(webhook):
    create(webhook)
    status = webhook.status()
    assert status["status"] == "ok"
    assert status["service"] == "mockd"
    assert isinstance(status["version"], str) and status["version"]
    assert status["workers"] == 2
    assert isinstance(status["uptime_seconds"], int) and status["uptime_seconds"] >= 0
    assert isinstance(status["live_mocks"], int) and status["live_mocks"] >= 1


def test_live_mocks_follows_create_and_delete(webhook):
    before = webhook.status()["live_mocks"]
    mock_id = create(webhook)["mock_id"]
    assert webhook.status()["live_mocks"] == before + 1
    webhook.delete_mock(mock_id)
    assert webhook.status()["live_mocks"] == before


def test_root(webhook):
    root = webhook.root__get()
    assert root["service"] == "mockd"
    assert isinstance(root["version"], str) and root["version"]
    assert root["openapi"] == "/v1/openapi.json"


# ---- authentication and ownership --------------------------------------------------------------


def test_wrong_key_is_an_authentication_error(webhook, webhook_wrong_key):
    mock_id = create(webhook)["mock_id"]
    calls = [
        lambda: webhook_wrong_key.create_mock(body={"status_code": 200}),
        lambda: webhook_wrong_key.get_mock(mock_id),
        lambda: webhook_wrong_key.delete_mock(mock_id),
        lambda: webhook_wrong_key.get_mock(UNKNOWN_ID),
    ]
    for call in calls:
        with pytest.raises(AuthenticationError, match="^invalid API key$"):
            call()
    # Nothing was deleted.
    assert webhook.get_mock(mock_id)["mock"]["mock_id"] == mock_id


def test_empty_key_is_refused_by_the_sdk_itself(base_url):
    with pytest.raises(AuthenticationError, match="api_key or rapidapi_key is required"):
        Webhook(api_key="", base_url=base_url)


def test_other_key_cannot_see_or_delete_a_mock(webhook, webhook_key2):
    mock_id = create(webhook, name="key-one-only")["mock_id"]
    with pytest.raises(NotFoundError, match="^mock not found$"):
        webhook_key2.get_mock(mock_id)
    with pytest.raises(NotFoundError, match="^mock not found$"):
        webhook_key2.delete_mock(mock_id)
    assert webhook.get_mock(mock_id)["mock"]["name"] == "key-one-only"
    # And the other way round.
    other_id = create(webhook_key2, name="key-two-only")["mock_id"]
    with pytest.raises(NotFoundError, match="^mock not found$"):
        webhook.get_mock(other_id)
    assert webhook_key2.get_mock(other_id)["mock"]["name"] == "key-two-only"


def test_serving_needs_only_the_id(webhook, webhook_key2, webhook_wrong_key):
    """The id is the capability: the serving path ignores the key the SDK always sends."""
    mock_id = create(webhook, body='{"public": true}')["mock_id"]
    assert webhook_key2.hit_mock_7(mock_id) == {"public": True}
    assert webhook_wrong_key.hit_mock_7(mock_id) == {"public": True}
    assert hits(webhook, mock_id) == 2


# ---- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body,detail",
    [
        ({"status_code": 600}, "status_code: must be an integer from 100 to 599, got 600"),
        ({"status_code": 99}, "status_code: must be an integer from 100 to 599, got 99"),
        ({"status_code": "200"}, "status_code: must be an integer from 100 to 599"),
        ({"ttl_seconds": 59}, "ttl_seconds: must be an integer from 60 to 172800, got 59"),
        ({"ttl_seconds": 172801}, "ttl_seconds: must be an integer from 60 to 172800"),
        ({"delay_ms": 30001}, "delay_ms: must be an integer from 0 to 30000"),
        ({"delay_ms": -1}, "delay_ms: must be an integer from 0 to 30000"),
        ({"headers": {"X-Injected": "a\r\nSet-Cookie: x=1"}}, "headers.X-Injected: "),
        ({"headers": {"X-Injected": "a\r\nb"}}, "CR or LF"),
        ({"headers": {"Content-Length": "5"}}, "headers.Content-Length: "),
        ({"headers": {"Bad Name": "v"}}, "headers.Bad Name: "),
        ({"headers": ["X-A", "b"]}, "headers: must be an object"),
        ({"content_type": "text/plain\r\nX-Evil: 1"}, "content_type: "),
        ({"content_type": ""}, "content_type: must not be empty"),
        ({"name": "n" * 129}, "name: must be at most 128 characters"),
        ({"body": {"accepted": True}}, "body: must be a string"),
    ],
    ids=["status-600", "status-99", "status-string", "ttl-59", "ttl-172801", "delay-30001",
         "delay-negative", "header-crlf-injection", "header-crlf", "header-content-length",
         "header-bad-name", "headers-list", "content-type-crlf", "content-type-empty",
         "name-too-long", "body-object"],
)
def test_invalid_create_is_a_validation_error(webhook, body, detail):
    before = webhook.status()["live_mocks"]
    with pytest.raises(ValidationError) as info:
        webhook.create_mock(body=body)
    assert detail in str(info.value)
    assert webhook.status()["live_mocks"] == before


def test_invalid_json_shapes_are_validation_errors(webhook):
    # The SDK sends lists and strings as-is (only dicts have None values stripped).
    for body, detail in ([[1, 2], "body: must be a JSON object"], ["text", "body: must be a JSON object"]):
        with pytest.raises(ValidationError, match=f"^{detail}"):
            webhook.create_mock(body=body)


# ---- the documented examples -------------------------------------------------------------------


def test_example_payments_accepted(webhook):
    mock = create(
        webhook,
        name="payments-accepted",
        status_code=202,
        body='{"accepted": true}',
        ttl_seconds=3600,
    )
    assert mock["name"] == "payments-accepted"
    assert mock["status_code"] == 202
    assert mock["content_type"] == "application/json"
    assert mock["has_body"] is True
    assert mock["has_custom_headers"] is False
    assert mock["hit_count"] == 0
    assert parse_time(mock["expires_at"]) - parse_time(mock["created_at"]) == timedelta(
        seconds=3600
    )

    assert webhook.hit_mock_7(mock["mock_id"]) == {"accepted": True}
    got = webhook.get_mock(mock["mock_id"])["mock"]
    assert got["hit_count"] == 1
    assert {k: v for k, v in got.items() if k != "hit_count"} == {
        k: v for k, v in mock.items() if k != "hit_count"
    }


def test_example_rate_limited(webhook):
    mock = create(
        webhook,
        status_code=429,
        headers={"Retry-After": "120", "X-RateLimit-Policy": "test"},
        body='{"error":"rate_limited"}',
        delay_ms=800,
    )
    assert mock["status_code"] == 429
    assert mock["delay_ms"] == 800
    assert mock["has_custom_headers"] is True
    assert mock["has_body"] is True

    started = time.monotonic()
    with pytest.raises(RateLimitError) as info:
        webhook.hit_mock_7(mock["mock_id"])
    elapsed = time.monotonic() - started
    # The body has neither "detail" nor "message", so the SDK uses its own default text; it does
    # not expose the body or the Retry-After header.
    assert str(info.value) == "Rate limit exceeded."
    assert elapsed >= 0.8, elapsed
    assert elapsed < 5.0, elapsed
    assert hits(webhook, mock["mock_id"]) == 1
