""":func:`schemas.text.ascii_int`, the one reading of a number from outside."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.text import ascii_int


@pytest.mark.parametrize("written", ["²", "³", "¹", "３", "٣", "", "-1", "+1", " 1", "1 ", "1e3"])
def test_what_isdigit_or_int_would_take_is_not_a_number_here(written: str) -> None:
    """Superscripts pass ``isdigit()`` and fail ``int()``; other scripts' digits, signs and
    spaces pass ``int()``: none is a number written by a form, a device or a URL."""
    assert ascii_int(written) is None


@given(st.integers(min_value=0, max_value=10**18 - 1))
def test_every_number_of_up_to_18_digits_reads_back(number: int) -> None:
    assert ascii_int(str(number)) == number


@given(st.text(max_size=40))
def test_any_text_is_a_number_or_none_never_an_error(written: str) -> None:
    """Never raises; a number exactly when the text is 1 to 18 ASCII digits (4,300 digits would
    raise in ``int()``)."""
    number = ascii_int(written)
    is_digits = 1 <= len(written) <= 18 and all("0" <= c <= "9" for c in written)
    assert (number is not None) == is_digits
    assert ascii_int("9" * 19) is None and ascii_int("1" * 5000) is None
