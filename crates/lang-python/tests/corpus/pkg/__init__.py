from .core import greet
VERSION = "1.2"
