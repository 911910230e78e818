import math
print(math.pi, math.e, math.tau, math.inf, -math.inf)
print(math.sqrt(2), math.sin(math.pi / 6), math.cos(0), math.atan2(1, 1), math.hypot(3, 4))
print(math.floor(-2.5), math.ceil(2.1), math.trunc(-2.7), math.fabs(-3), math.copysign(1, -0.0))
print(math.log(100, 10), math.log2(1024), math.log10(0.001), math.exp(1), math.pow(2, 10))
print(math.comb(10, 3), math.perm(5, 2), math.prod([1, 2, 3, 4]), math.fsum([0.1] * 10))
print(math.isclose(0.1 + 0.2, 0.3), math.isnan(float("nan")), math.isinf(1e400), math.degrees(math.pi))
print(math.frexp(8.0), math.ldexp(0.5, 4), math.modf(3.25), math.lcm(4, 6), math.dist((0, 0), (3, 4)))
