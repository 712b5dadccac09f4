"""Rate and concurrency limits, trigger params and body validation (pure logic)."""

from __future__ import annotations

import doctest

import msgspec
import pytest

from rivulet.publishing import limits
from rivulet.publishing.limits import ConcurrencyLimiter, LoginThrottle, RateLimiter
from rivulet.sdk import triggers
from rivulet.sdk.triggers import BodyField, HttpTriggerParams, ScheduleTriggerParams, body_struct


@pytest.mark.parametrize("module", [limits, triggers])
def test_doctests(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


def test_rate_limiter_refills_over_time() -> None:
    limiter = RateLimiter()
    assert limiter.acquire("k", per_minute=60, now=0.0) == 0.0
    for _ in range(59):
        limiter.acquire("k", per_minute=60, now=0.0)
    assert limiter.acquire("k", per_minute=60, now=0.0) == pytest.approx(1.0)
    assert limiter.acquire("k", per_minute=60, now=1.0) == 0.0
    assert limiter.acquire("other", per_minute=60, now=0.0) == 0.0


def test_concurrency_limiter_counts_in_flight_calls() -> None:
    limiter = ConcurrencyLimiter()
    assert limiter.try_enter("a", 2)
    assert limiter.try_enter("a", 2)
    assert not limiter.try_enter("a", 2)
    assert limiter.try_enter("b", None)
    limiter.leave("a")
    assert limiter.inflight("a") == 1
    assert limiter.try_enter("a", 2)


def test_http_trigger_params_are_checked() -> None:
    with pytest.raises(ValueError, match="duplicate body fields: a"):
        HttpTriggerParams(fields=[BodyField(name="a"), BodyField(name="a")])
    with pytest.raises(msgspec.ValidationError, match="slug"):
        msgspec.convert({"slug": "Not A Slug"}, HttpTriggerParams)
    with pytest.raises(ValueError, match="concrete value type"):
        BodyField(name="x", type="Stream[Text]")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "exactly one of cron and interval_s"),
        ({"cron": "* * * * *", "interval_s": 5}, "exactly one"),
        ({"cron": "61 * * * *"}, "invalid cron expression"),
        ({"interval_s": 5, "timezone": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_schedule_params_are_checked(params: dict[str, object], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        msgspec.convert(params, ScheduleTriggerParams)


def test_body_struct_validates_types_and_defaults() -> None:
    params = HttpTriggerParams(
        slug="x",
        fields=[
            BodyField(name="q", type="Text"),
            BodyField(name="k", type="Int", required=False, default=3),
            BodyField(name="tags", type="List[Text]", required=False),
        ],
    )
    body = msgspec.json.decode(b'{"q": "hi"}', type=body_struct(params))
    assert msgspec.structs.asdict(body) == {"q": "hi", "k": 3, "tags": None}
    with pytest.raises(msgspec.ValidationError, match=r"\$\.tags\[1\]"):
        msgspec.json.decode(b'{"q": "hi", "tags": ["a", 1]}', type=body_struct(params))


def test_login_throttle_counts_an_attempt_when_it_is_admitted() -> None:
    throttle = LoginThrottle(per_user=5, per_address=20, window_s=300)
    admitted = [throttle.begin("ada", "10.0.0.1", now=1.0) for _ in range(60)]  # 60 in flight, none finished
    assert admitted.count(0.0) == 5
    assert all(wait > 0 for wait in admitted[5:])


def test_login_throttle_per_address_and_a_success_takes_its_count_back() -> None:
    throttle = LoginThrottle(per_user=5, per_address=3, window_s=300)
    assert throttle.begin("ada", "10.0.0.9", now=1.0) == 0.0
    throttle.succeed("ada", "10.0.0.9", 1.0)  # the right password: neither count keeps the attempt
    waits = [throttle.begin(f"user{i}", "10.0.0.9", now=2.0) for i in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(300.0)
    assert throttle.begin("bob", "10.0.0.10", now=2.0) == 0.0  # another address is not affected
