class Temp:
    def __init__(self):
        self._c = 0
    @property
    def celsius(self):
        return self._c
    @celsius.setter
    def celsius(self, v):
        if v < -273.15:
            raise ValueError("too cold")
        self._c = v
    @property
    def fahrenheit(self):
        return self._c * 9 / 5 + 32
    @staticmethod
    def unit():
        return "C"
    @classmethod
    def make(cls, v):
        t = cls(); t.celsius = v; return t
t = Temp.make(100)
print(t.celsius, t.fahrenheit, Temp.unit())
try:
    t.celsius = -300
except ValueError as e:
    print("error:", e)
