import time
t0 = time.time()
p0 = time.perf_counter()
print(t0 > 1_600_000_000, type(t0).__name__)
s = sum(range(10000))
print(time.perf_counter() >= p0, s)
print(time.gmtime(0)[:6], time.strftime("%Y-%m-%d", time.gmtime(86400 * 365)))
print(time.gmtime(1700000000).tm_year, time.mktime(time.gmtime(1700000000)) - 1700000000 == time.timezone * 0 + (time.mktime(time.gmtime(1700000000)) - 1700000000))
