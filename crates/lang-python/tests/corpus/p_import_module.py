import helper_mod
import helper_mod as again
print(helper_mod.bump(), again.bump(), helper_mod is again)
import importlib
print(importlib.import_module("pkg.core").greet("dyn"))
try:
    import no_such_module
except ModuleNotFoundError as e:
    print("ModuleNotFoundError:", e.name)
