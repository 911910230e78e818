def describe():
    return "tool from a namespace package"
