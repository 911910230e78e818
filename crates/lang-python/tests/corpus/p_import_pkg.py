import pkg
from pkg.sub import deep
from pkg.core import greet as g
print(pkg.VERSION, pkg.greet("world"), g("x"))
print(deep.run())
import pkg.sub.helper as h
print(h.tag(), pkg.sub.helper is h)
