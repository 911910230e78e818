class Positive:
    def __set_name__(self, owner, name):
        self.name = "_" + name
    def __get__(self, obj, objtype=None):
        return getattr(obj, self.name, 0)
    def __set__(self, obj, value):
        if value < 0:
            raise ValueError(f"{self.name[1:]} must be positive")
        setattr(obj, self.name, value)
class Order:
    qty = Positive()
    price = Positive()
o = Order(); o.qty = 5; o.price = 3
print(o.qty * o.price)
try:
    o.qty = -1
except ValueError as e:
    print(e)
class Lazy:
    def __getattr__(self, name):
        return name.upper()
print(Lazy().hello)
