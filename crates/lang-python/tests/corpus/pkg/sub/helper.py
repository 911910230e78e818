def tag():
    return "<helper>"
