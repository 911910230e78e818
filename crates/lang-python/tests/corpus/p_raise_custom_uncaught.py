class ShieldTestError(Exception):
    pass
def a(): b()
def b(): raise ShieldTestError("custom failure")
a()
