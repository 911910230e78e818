//! Keyed hashing for the script VMs' tables and string interners, and the
//! secret the keys come from.
//!
//! A script chooses the keys of its tables and the strings it makes. With a
//! public hash it can choose them to collide (hash flooding): every lookup
//! then walks one long probe run, quadratic work for a linear instruction
//! count. Every function here takes a secret [`Key`] the script cannot read,
//! so which keys collide is unknown to it.
//!
//! On hardware the secret would come from RDRAND inside the enclave; in the
//! simulation it comes from `getrandom`, a system call the enclave's filter
//! allows.

/// A secret hash key: four words, the last three odd (multipliers).
pub type Key = [u64; 4];

/// A fresh secret key: from the operating system's randomness, or, should
/// that fail, from std's per-process random hash keys (drawn from the same
/// source at start-up). Never a constant.
pub fn secret_key() -> Key {
    let mut bytes = [0u8; 32];
    if getrandom::getrandom(&mut bytes).is_err() {
        use std::hash::{BuildHasher, Hasher};
        let rs = std::collections::hash_map::RandomState::new();
        for (i, c) in bytes.chunks_exact_mut(8).enumerate() {
            let mut hs = rs.build_hasher();
            hs.write_usize(i);
            c.copy_from_slice(&hs.finish().to_le_bytes());
        }
    }
    let mut key = [0u64; 4];
    for (k, c) in key.iter_mut().zip(bytes.chunks_exact(8)) {
        *k = word(c, 0);
    }
    for k in &mut key[1..] {
        *k |= 1;
    }
    key
}

/// A 64x64->128-bit multiply folded to 64 bits (high half xor low half):
/// unlike a plain multiply, every input bit reaches every output bit.
#[inline(always)]
pub fn mum(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// The keyed hash of a table key's 64 bits (an integer, a float's bits, a
/// handle). Tables take the slot from the top bits.
///
/// A single secret multiply (multiply-shift) is not enough: keys in an
/// arithmetic progression (`t[j << 50]`, or string handles, which are
/// allocated in sequence) stay a progression, and for about one key in
/// twenty a progression of 5,000 keys clustered into runs whose probes cost
/// 5 to 100 times those of random keys. The folded multiply first makes
/// every bit of the key reach the low half; the second multiply spreads the
/// result to the top bits.
#[inline(always)]
pub fn mix(key: &Key, x: u64) -> u64 {
    mum(x ^ key[0], key[1]).wrapping_mul(key[2])
}

/// The keyed hash of string bytes: every byte counts, 16 of them per
/// multiply, each multiply with a key word.
pub fn hash_bytes(key: &Key, b: &[u8]) -> u64 {
    let mut h = key[0] ^ b.len() as u64;
    let mut b = b;
    if b.len() >= 64 {
        // Four independent lanes, so the multiplies overlap: a long string
        // (a script builds them by repeated concatenation, each one hashed
        // whole) hashes about as fast as it is copied.
        let mut lanes = [
            h ^ key[1],
            h ^ key[2],
            h ^ key[3],
            h ^ key[1].rotate_left(32),
        ];
        let mut blocks = b.chunks_exact(64);
        for c in &mut blocks {
            for (j, l) in lanes.iter_mut().enumerate() {
                *l = mum(word(c, 16 * j) ^ *l, word(c, 16 * j + 8) ^ key[(j & 1) + 2]);
            }
        }
        h = mum(
            lanes[0] ^ lanes[1].rotate_left(32),
            lanes[2] ^ lanes[3].rotate_left(32) ^ key[1],
        );
        b = blocks.remainder();
    }
    let mut words = b.chunks_exact(8);
    for c in &mut words {
        h = mum(h ^ word(c, 0), key[1]);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        // The length is in the initial state, so zero padding is unambiguous.
        let mut t = [0u8; 8];
        t[..rest.len()].copy_from_slice(rest);
        h = mum(h ^ word(&t, 0), key[2]);
    }
    mum(h ^ key[0], key[3])
}

/// The little-endian word at `c[i..i + 8]`.
#[inline(always)]
fn word(c: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&c[i..i + 8]);
    u64::from_le_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Total distance of `keys` from their home slots under linear probing
    /// in a table of `slots` (a power of two), slots from the top bits.
    fn displacement(
        keys: impl Iterator<Item = u64>,
        slots: usize,
        h: impl Fn(u64) -> u64,
    ) -> usize {
        let shift = 64 - slots.trailing_zeros();
        let mut taken = vec![false; slots];
        let mut total = 0;
        for k in keys {
            let mut i = (h(k) >> shift) as usize;
            while taken[i] {
                i = (i + 1) & (slots - 1);
                total += 1;
            }
            taken[i] = true;
        }
        total
    }

    #[test]
    fn progressions_spread_like_random_keys() {
        // 5,000 keys in 8,192 slots: random keys average about 0.8 probes
        // each. A plain secret multiply exceeded 4 per key for about one key
        // in twenty on these progressions, and 100 per key at worst.
        let progressions: [fn(u64) -> u64; 4] = [|j| j, |j| j << 32, |j| j << 50, |j| j << 40 | j];
        for _ in 0..50 {
            let key = secret_key();
            for p in progressions {
                let total = displacement((1..=5000).map(p), 8192, |x| mix(&key, x));
                assert!(total < 2 * 5000, "displacement {total} for {:x}", p(3));
            }
        }
    }

    #[test]
    fn keys_are_fresh_and_odd() {
        let (a, b) = (secret_key(), secret_key());
        assert_ne!(a, b);
        assert!(a[1..].iter().all(|k| k & 1 == 1));
        assert_ne!(hash_bytes(&a, b"same"), hash_bytes(&b, b"same"));
        assert_ne!(mix(&a, 1 << 40), mix(&b, 1 << 40));
    }

    #[test]
    fn every_byte_counts() {
        let key = secret_key();
        for len in [0usize, 1, 7, 8, 9, 63, 64, 65, 200] {
            let base = vec![b'a'; len];
            let h = hash_bytes(&key, &base);
            for i in 0..len {
                let mut other = base.clone();
                other[i] ^= 0x80;
                assert_ne!(hash_bytes(&key, &other), h, "len {len} byte {i}");
            }
            // Zero padding does not make lengths collide.
            assert_ne!(hash_bytes(&key, &[0u8; 3]), hash_bytes(&key, &[0u8; 4]));
        }
    }
}
