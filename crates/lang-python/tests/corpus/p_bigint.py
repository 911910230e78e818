import math
f = math.factorial(50)
print(f)
print(f // 12345678901234567890, f % 999999937)
print(str(2 ** 521 - 1)[:40], len(str(3 ** 1000)))
print(math.gcd(2 ** 64, 6 ** 30), math.isqrt(10 ** 40 + 12345))
print((-(10 ** 25)) // 7, (10 ** 25) % -7)
