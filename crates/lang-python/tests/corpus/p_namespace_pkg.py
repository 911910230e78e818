# Folders without __init__.py import as namespace packages (PEP 420).
import nspkg.inner.tool as tool
from nspkg.inner import tool as again
import nspkg

print(tool.describe())
print(again is tool)
print(nspkg.__name__, type(nspkg.__path__).__name__ != "NoneType")
print(hasattr(nspkg, "__file__") and nspkg.__file__ is not None)
try:
    import nspkg.missing
except ImportError as e:
    print("ImportError", e.name)
