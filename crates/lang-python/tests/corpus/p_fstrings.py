x, y = 3.14159, 42
name = "shield"
print(f"{x:.2f} {y:05d} {y:x} {y:b} {name!r} {name:>10} {name:^10}|")
print(f"{1234567.891:,.2f} {0.25:.1%} {1e-7:e} {y=} {x*2:g}")
w = 8
print(f"{'nested':{w}}|{name.upper()!s:<{w}}|{[1,2][1]}")
print("{0} {1} {0}".format("a", "b"), "{name}-{n:03}".format(name="k", n=7))
print(format(255, "#x"), format(3.0, ".3e"), format(-5, "+d"), format(5, " d"))
