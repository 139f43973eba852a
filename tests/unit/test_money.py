"""The one rounding rule and the one decimal text form, each against a reference built another way: rounding
from exact fractions and integer division, text from the digits and exponent of the decimal's tuple."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from wealthgate import money

D = Decimal


def half_away_from_zero(value: Decimal | Fraction, places: int) -> Decimal:
    """Reference: the nearest multiple of 10^-places, a tie going away from zero, by integer arithmetic."""
    exact = abs(Fraction(value)) * 10**places
    units, rest = divmod(exact.numerator, exact.denominator)
    if 2 * rest >= exact.denominator:
        units += 1
    digits = tuple(int(c) for c in str(units))
    return Decimal((1 if value < 0 else 0, digits, -places))


def positional(value: Decimal) -> str:
    """Reference: a decimal written out from its (sign, digits, exponent) tuple, no exponent, no "-0"."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    text = "".join(str(d) for d in digits)
    if exponent >= 0:
        body = str(int(text + "0" * exponent))
    else:
        places = -exponent
        text = text.rjust(places + 1, "0")
        body = (text[:-places].lstrip("0") or "0") + "." + text[-places:]
    is_zero = not any(digits)
    return ("-" if sign and not is_zero else "") + body


finite = st.decimals(allow_nan=False, allow_infinity=False)
built = st.builds(
    lambda sign, digits, exponent: Decimal((sign, tuple(digits), exponent)),
    st.integers(0, 1),
    st.lists(st.integers(0, 9), min_size=1, max_size=30),
    st.integers(-40, 40),
)


@given(st.one_of(finite, built))
def test_plain_writes_every_decimal_positionally(value: Decimal) -> None:
    text = money.plain(value)
    assert text == positional(value)
    assert "E" not in text.upper()
    assert Decimal(text) == value


def test_plain_on_the_forms_str_gets_wrong() -> None:
    assert money.plain(D("1E+1")) == "10"
    assert money.plain(D("1.02E+3")) == "1020"
    assert money.plain(D("2.62E+3")) == "2620"
    assert money.plain(D("0E-8")) == "0.00000000"
    assert money.plain(D("1E-8")) == "0.00000001"
    assert money.plain(D("-0.00")) == "0.00"
    assert money.plain(D("10.00000000").normalize()) == "10"
    assert money.trimmed(D("10.00000000")) == "10"
    assert money.trimmed(D("1020.50000000")) == "1020.5"
    assert money.trimmed(D("0E-8")) == "0"


# Ties at the digit after the last kept place: k.5 x 10^-places, either sign.
def ties(places: int) -> st.SearchStrategy[Decimal]:
    return st.builds(
        lambda sign, k: Decimal((sign, tuple(int(c) for c in str(10 * k + 5)), -(places + 1))),
        st.integers(0, 1),
        st.integers(0, 10**12),
    )


@given(st.one_of(ties(2), st.decimals(min_value=-(10**12), max_value=10**12, places=5)))
def test_cents_round_half_away_from_zero(value: Decimal) -> None:
    assert money.to_cents(value) == half_away_from_zero(value, 2)


@given(st.data())
def test_every_rounder_follows_the_one_rule(data: st.DataObject) -> None:
    rounders = [(money.to_cents, 2), (money.to_money, 4), (money.to_price, 6), (money.to_weight, 6)]
    for rounder, places in rounders:
        value = data.draw(st.one_of(ties(places), st.decimals(-(10**9), 10**9, places=places + 3)))
        assert rounder(value) == half_away_from_zero(value, places), (rounder.__name__, value)
        assert rounder(value).as_tuple().exponent == -places


def test_the_issues_tie_by_hand() -> None:
    assert money.to_cents(D("10.125")) == D("10.13")  # half to even would give 10.12
    assert money.to_cents(D("-10.125")) == D("-10.13")
    assert money.to_cents(D("10.135")) == D("10.14")
    assert money.to_weight(D("0.0078125")) == D("0.007813")  # 1/128
    assert money.to_weight(D("0.0000005")) == D("0.000001")
