"""Summary statistics over (site, value) records."""


def summary(readings):
    by_site = {}
    max_value, max_site = float("-inf"), None
    for site, value in readings:
        if value > max_value:
            max_value, max_site = value, site
        by_site[site] = by_site.get(site, 0) + value
    return {
        "count": len(readings),
        "sites": len(by_site),
        "mean": sum(v for _, v in readings) / len(readings),
        "max": max_value,
        "max_site": max_site,
        "by_site": by_site,
        "site_names": sorted(by_site),
    }
