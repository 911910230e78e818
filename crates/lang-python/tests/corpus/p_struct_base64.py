import struct, base64, binascii
packed = struct.pack("<iHd4s", -2, 65535, 1.5, b"abcd")
print(packed.hex(), struct.calcsize("<iHd4s"), struct.unpack("<iHd4s", packed))
print(struct.pack(">I", 1), struct.unpack_from("<h", b"\x01\x80", 0))
print(base64.b64encode(b"shield data"), base64.b64decode("c2hpZWxk"), base64.urlsafe_b64encode(b"\xff\xfe"))
print(base64.b32encode(b"hi"), base64.b16encode(b"hi"), binascii.crc32(b"hello"), binascii.hexlify(b"\x01\x02"))
