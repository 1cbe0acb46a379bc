"""Hooks for the schemathesis run against mockd (loaded through SCHEMATHESIS_HOOKS).

The serving endpoint answers with whatever a mock was configured with, so two things need care:

- Its status can be anything from 100 to 599. A 5xx there is not a server error when it is the
  mock's configured answer; `served_as_configured` (used in place of `not_a_server_error` for the
  serving operations, see schemathesis.toml) still fails any 5xx that is not: one without the
  `X-Mock-Id` of the mock the path names is the server's own.
- The run must stay bounded and its client must be able to read every answer. `before_call`
  rewrites two valid create values before they are sent: a `delay_ms` above MAX_DELAY_MS
  (up to 30 s per hit) becomes a short delay, and `status_code` 100 becomes 103, because a mock
  answering 100 Continue sends no final response (the connection closes after the 1xx), which the
  Python HTTP client reports as a dropped connection. The bounds themselves (0 and 30000, 100 and
  599) are exercised by tests/openapi against the server.
"""

import schemathesis

MAX_DELAY_MS = 200
SERVE_PREFIX = "/v1/mock/"


def _is_create(ctx) -> bool:
    op = ctx.operation
    return op is not None and op.method.upper() == "POST" and op.path == "/v1/mocks"


@schemathesis.hook
def before_call(ctx, case, kwargs):
    """Every phase's creates, just before they are sent: see `bounded_mock`."""
    if _is_create(ctx) and isinstance(case.body, dict):
        bounded_mock(case.body)


def bounded_mock(body: dict) -> None:
    delay = body.get("delay_ms")
    if type(delay) is int and MAX_DELAY_MS < delay <= 30_000:
        body["delay_ms"] = delay % (MAX_DELAY_MS + 1)
    if type(body.get("status_code")) is int and body["status_code"] == 100:
        body["status_code"] = 103


@schemathesis.check
def served_as_configured(ctx, response, case):
    """On the serving path, a 5xx must be the mock's own configured answer."""
    if not case.operation.path.startswith(SERVE_PREFIX) or response.status_code < 500:
        return None
    mock_id = (case.path_parameters or {}).get("mock_id")
    served_by = response.headers.get("x-mock-id") or response.headers.get("X-Mock-Id")
    if isinstance(served_by, list):
        served_by = served_by[0] if served_by else None
    if served_by is None or served_by != mock_id:
        raise AssertionError(
            f"{response.status_code} on the serving path without the X-Mock-Id of mock "
            f"{mock_id!r} (got {served_by!r}): a server error, not a configured answer"
        )
    return None
