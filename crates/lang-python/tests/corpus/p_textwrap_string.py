import textwrap, string
t = "The quick brown fox jumps over the lazy dog and keeps running far away."
print(textwrap.wrap(t, 20))
print(textwrap.fill(t, 30))
print(textwrap.dedent("    a\n      b\n    c"), textwrap.indent("x\ny", "> "), textwrap.shorten(t, 25))
print(string.ascii_lowercase, string.digits, string.punctuation[:5], string.capwords("hello big world"))
print(string.Template("$who likes $what").substitute(who="tim", what="py"))
