x = "global"
def outer():
    x = "enclosing"
    def inner():
        return x
    return inner()
print(outer(), x)
class K:
    x = "class"
    def m(self):
        return x
print(K().m(), K.x)
def shadow():
    try:
        print(y)
    except NameError as e:
        print("NameError:", e)
shadow()
def unbound():
    try:
        print(z)
        z = 1
    except UnboundLocalError:
        print("unbound local")
unbound()
