import hashlib, hmac
print(hashlib.sha256(b"abc").hexdigest())
print(hashlib.md5(b"abc").hexdigest(), hashlib.sha1(b"abc").hexdigest())
h = hashlib.sha512(); h.update(b"a"); h.update(b"bc"); print(h.hexdigest()[:32])
print(hashlib.blake2b(b"x").hexdigest()[:32], hashlib.sha3_256(b"").hexdigest()[:16])
print(hmac.new(b"key", b"msg", "sha256").hexdigest())
