import statistics as st
data = [2.5, 3.1, 4.7, 1.2, 3.3, 3.1]
print(st.mean(data), st.median(data), st.mode(data), round(st.stdev(data), 10))
print(st.median_low([1, 3, 5, 7]), st.median_high([1, 3, 5, 7]), round(st.pvariance(data), 10))
print(st.fmean([1, 2, 3, 4]), st.geometric_mean([1, 10, 100]), st.harmonic_mean([1, 2, 4]))
print(st.quantiles(range(1, 101), n=4))
