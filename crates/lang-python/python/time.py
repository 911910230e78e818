"""time for Shield scripts. The clock is the job's (the host's, untrusted);
there is no local time zone: local time is UTC. sleep() does not wait."""

import _shield

timezone = 0
altzone = 0
daylight = 0
tzname = ("UTC", "UTC")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December")


class struct_time(tuple):
    """The nine fields of a time, with tm_zone and tm_gmtoff (always UTC)."""

    n_sequence_fields = 9
    n_fields = 11

    def __new__(cls, seq, extra=None):
        seq = tuple(seq)
        if len(seq) < 9:
            raise TypeError("time.struct_time() takes an at least 9-sequence (%d-sequence given)" % len(seq))
        self = tuple.__new__(cls, seq[:9])
        extra = extra or {}
        self._zone = extra.get("tm_zone", "UTC")
        self._gmtoff = extra.get("tm_gmtoff", 0)
        return self

    tm_year = property(lambda self: self[0])
    tm_mon = property(lambda self: self[1])
    tm_mday = property(lambda self: self[2])
    tm_hour = property(lambda self: self[3])
    tm_min = property(lambda self: self[4])
    tm_sec = property(lambda self: self[5])
    tm_wday = property(lambda self: self[6])
    tm_yday = property(lambda self: self[7])
    tm_isdst = property(lambda self: self[8])
    tm_zone = property(lambda self: self._zone)
    tm_gmtoff = property(lambda self: self._gmtoff)

    def __repr__(self):
        names = ("tm_year", "tm_mon", "tm_mday", "tm_hour", "tm_min",
                 "tm_sec", "tm_wday", "tm_yday", "tm_isdst")
        return "time.struct_time(%s)" % ", ".join(
            "%s=%r" % pair for pair in zip(names, self))

    def __reduce__(self):
        return (struct_time, (tuple(self),))


def time():
    return _shield.time()


def time_ns():
    return int(_shield.time() * 1e9)


def monotonic():
    return _shield.cpu_seconds()


def monotonic_ns():
    return int(_shield.cpu_seconds() * 1e9)


perf_counter = monotonic
perf_counter_ns = monotonic_ns
process_time = monotonic
process_time_ns = monotonic_ns
thread_time = monotonic
thread_time_ns = monotonic_ns


def sleep(secs):
    if secs < 0:
        raise ValueError("sleep length must be non-negative")


def _days_to_civil(days):
    # Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + (m <= 2), m, d)


def _is_leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def gmtime(secs=None):
    if secs is None:
        secs = time()
    secs = int(secs // 1)
    days, rem = divmod(secs, 86400)
    y, m, d = _days_to_civil(days)
    yday = sum((31, 29 if _is_leap(y) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[:m - 1]) + d
    wday = (days + 3) % 7
    return struct_time((y, m, d, rem // 3600, rem // 60 % 60, rem % 60, wday, yday, 0),
                       {"tm_zone": "UTC", "tm_gmtoff": 0})


localtime = gmtime


def mktime(t):
    y, m, d, hh, mm, ss = tuple(t)[:6]
    y2 = y - (m <= 2)
    era = y2 // 400
    yoe = y2 - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return float(days * 86400 + hh * 3600 + mm * 60 + ss)


def asctime(t=None):
    if t is None:
        t = localtime()
    t = tuple(t)
    return "%s %s %2d %02d:%02d:%02d %d" % (
        _DAYS[t[6]][:3], _MONTHS[t[1] - 1][:3], t[2], t[3], t[4], t[5], t[0])


def ctime(secs=None):
    return asctime(localtime(secs))


def strftime(format, t=None):
    if t is None:
        t = localtime()
    y, m, d, hh, mm, ss, wd, yd = tuple(t)[:8]
    out = []
    i = 0
    n = len(format)
    while i < n:
        c = format[i]
        if c != "%" or i + 1 == n:
            out.append(c)
            i += 1
            continue
        f = format[i + 1]
        i += 2
        if f == "Y":
            out.append(str(y))
        elif f == "m":
            out.append("%02d" % m)
        elif f == "d":
            out.append("%02d" % d)
        elif f == "e":
            out.append("%2d" % d)
        elif f == "H":
            out.append("%02d" % hh)
        elif f == "I":
            out.append("%02d" % ((hh + 11) % 12 + 1))
        elif f == "M":
            out.append("%02d" % mm)
        elif f == "S":
            out.append("%02d" % ss)
        elif f == "p":
            out.append("AM" if hh < 12 else "PM")
        elif f == "y":
            out.append("%02d" % (y % 100))
        elif f == "j":
            out.append("%03d" % yd)
        elif f == "a":
            out.append(_DAYS[wd][:3])
        elif f == "A":
            out.append(_DAYS[wd])
        elif f == "b" or f == "h":
            out.append(_MONTHS[m - 1][:3])
        elif f == "B":
            out.append(_MONTHS[m - 1])
        elif f == "w":
            out.append(str((wd + 1) % 7))
        elif f == "u":
            out.append(str(wd + 1))
        elif f == "Z":
            out.append("UTC")
        elif f == "z":
            out.append("+0000")
        elif f == "F":
            out.append("%d-%02d-%02d" % (y, m, d))
        elif f == "T":
            out.append("%02d:%02d:%02d" % (hh, mm, ss))
        elif f == "D":
            out.append("%02d/%02d/%02d" % (m, d, y % 100))
        elif f == "R":
            out.append("%02d:%02d" % (hh, mm))
        elif f == "c":
            out.append(asctime(t))
        elif f == "x":
            out.append("%02d/%02d/%02d" % (m, d, y % 100))
        elif f == "X":
            out.append("%02d:%02d:%02d" % (hh, mm, ss))
        elif f == "n":
            out.append("\n")
        elif f == "t":
            out.append("\t")
        elif f == "%":
            out.append("%")
        else:
            out.append("%" + f)
    return "".join(out)


def get_clock_info(name):
    raise ValueError("unknown clock")
