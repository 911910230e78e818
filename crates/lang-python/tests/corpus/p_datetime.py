from datetime import date, datetime, timedelta, timezone
d = date(2024, 2, 28)
print(d + timedelta(days=2), d.weekday(), d.isoformat(), d.strftime("%d/%m/%Y %a %B"))
dt = datetime(2023, 12, 31, 23, 59, 30)
print(dt + timedelta(seconds=45), dt.isoformat(), dt.timestamp() if dt.tzinfo else "naive")
print(datetime(2020, 1, 1, tzinfo=timezone.utc).timestamp(), datetime.fromisoformat("2021-06-15T12:30:00"))
print((date(2025, 1, 1) - date(2024, 1, 1)).days, timedelta(hours=25, minutes=3))
print(datetime.strptime("2022-03-04 05:06", "%Y-%m-%d %H:%M"), date.fromordinal(738000))
print(datetime(2024, 5, 6, 7, 8, 9).strftime("%Y-%m-%d %H:%M:%S %j %p"))
