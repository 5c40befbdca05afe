"""Property tests: `Retry-After` in every form, and Moneybird's decimal strings."""

from decimal import Decimal
from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.providers.http import EPOCH_THRESHOLD, parse_amount, parse_retry_after
from sandbox.store import money

NOW = st.floats(min_value=1.7e9, max_value=2.5e9, allow_nan=False)
EPOCHS = st.integers(min_value=EPOCH_THRESHOLD, max_value=4_000_000_000)


@given(epoch=EPOCHS, now=NOW)
def test_an_absolute_epoch_is_taken_as_is(epoch, now):
    assert parse_retry_after(str(epoch), now=now) == epoch


@given(seconds=st.integers(min_value=0, max_value=EPOCH_THRESHOLD - 1), now=NOW)
def test_a_delay_in_seconds_counts_from_now(seconds, now):
    assert parse_retry_after(f" {seconds} ", now=now) == now + seconds


@given(epoch=st.integers(min_value=0, max_value=4_000_000_000), now=NOW)
def test_an_http_date_is_its_moment(epoch, now):
    assert parse_retry_after(formatdate(epoch, usegmt=True), now=now) == epoch


@given(text=st.text(), now=NOW)
def test_any_header_value_parses_or_is_none_never_raises(text, now):
    result = parse_retry_after(text, now=now)
    assert result is None or isinstance(result, float)


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "Mon, 99 Foo 2026 25:61:00 GMT"])
def test_missing_or_unreadable_retry_after_is_none(value):
    assert parse_retry_after(value, now=1.8e9) is None


@given(amount=st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_the_sandbox_decimal_strings_parse_back_exactly(amount):
    text = money(amount)
    assert parse_amount(text) == amount
    assert "." in text
    assert "e" not in text.lower()


@given(amount=st.decimals(allow_nan=False, allow_infinity=False, places=4,
                          min_value=-10**12, max_value=10**12))  # fmt: skip
def test_decimal_values_and_their_strings_parse_exactly(amount):
    assert parse_amount(amount) == amount
    assert parse_amount(f"{amount:f}") == amount


@given(value=st.one_of(st.floats(), st.booleans(), st.none(), st.text()))
def test_floats_booleans_and_junk_are_refused_with_value_error(value):
    try:
        result = parse_amount(value)
    except ValueError:
        return
    assert isinstance(value, str)
    assert isinstance(result, Decimal)
    assert result.is_finite()
