from ..core import greet
from . import helper

def run():
    return greet("deep") + " " + helper.tag()
