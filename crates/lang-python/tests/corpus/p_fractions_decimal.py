from fractions import Fraction
from decimal import Decimal, getcontext, ROUND_HALF_UP
a = Fraction(1, 3) + Fraction(1, 6)
print(a, a.numerator, a.denominator, Fraction("0.75"), Fraction(3.5), float(Fraction(7, 8)))
print(Fraction(355, 113).limit_denominator(10), Fraction(1, 3) ** 2)
getcontext().prec = 30
print(Decimal(1) / Decimal(7))
print(Decimal("1.1") + Decimal("2.2"), Decimal("10.125").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
print(Decimal("2").sqrt(), Decimal("-3.5").copy_abs(), Decimal("1e3").normalize())
