counter = 0

def bump():
    global counter
    counter += 1
    return counter

print("helper_mod imported")
