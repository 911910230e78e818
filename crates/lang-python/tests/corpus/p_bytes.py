b = bytes([104, 105]) + b"!"
ba = bytearray(b"abc")
ba[0] = 65; ba.extend(b"de"); ba.reverse()
print(b, ba, b.hex(), bytes.fromhex("414243"), b * 2, b[1], b[1:])
print(b"a,b".split(b","), b"  x ".strip(), b"abc".upper(), memoryview(b"xyz")[1:].tobytes())
print(int.from_bytes(b"\x01\x00", "little"), (1024).to_bytes(2, "big"), "ß".encode("utf-16-le"))
