// Summary statistics over { site, value } records.
return {
    function summary(readings) {
        local total = 0.0, max = -1e30, max_site = null;
        local by_site = {}, site_names = [];
        foreach (r in readings) {
            total += r.value;
            if (r.value > max) { max = r.value; max_site = r.site; }
            if (!(r.site in by_site)) { site_names.append(r.site); by_site[r.site] <- 0.0; }
            by_site[r.site] += r.value;
        }
        site_names.sort();
        return {
            count = readings.len(),
            sites = site_names.len(),
            mean = total / readings.len(),
            max = max,
            max_site = max_site,
            by_site = by_site,
            site_names = site_names
        };
    }
};
