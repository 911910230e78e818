def fail(d):
    return d["missing"]
print("partial output")
fail({})
