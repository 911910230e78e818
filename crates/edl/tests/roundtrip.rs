//! Round trip through generated code: the trusted and untrusted sides
//! generated from `corpus/pos/roundtrip.edl` (committed in `generated/`, kept
//! fresh by the `golden` test) are compiled here, wired back to back through
//! in-process transports, and values must survive encode → decode both ways.
#![forbid(unsafe_code)]

use std::cell::RefCell;

use proptest::prelude::*;
use shield_edl::wire::{
    BridgeError, Caller, EcallTransport, Limits, OcallTransport, WireError, WithErrno,
};

#[allow(dead_code, unreachable_pub)]
mod t {
    include!("generated/roundtrip_t.rs");
}
#[allow(dead_code, unreachable_pub)]
mod u {
    include!("generated/roundtrip_u.rs");
}

/// The enclave's implementation: records what it received, answers
/// deterministically.
#[derive(Default)]
struct Enclave {
    seen: RefCell<Vec<String>>,
}

impl Enclave {
    fn saw(&self, s: String) {
        self.seen.borrow_mut().push(s);
    }
}

impl t::Ecalls for Enclave {
    fn ecall_scalars(
        &self,
        _o: &t::OcallProxy<'_>,
        c: i8,
        s: i16,
        i: i32,
        l: i64,
        ll: i64,
        u: u32,
        ull: u64,
        f: f32,
        d: f64,
        z: usize,
        w: i32,
        u8: u8,
        i64: i64,
    ) -> i32 {
        self.saw(format!(
            "{c} {s} {i} {l} {ll} {u} {ull} {f:?} {d:?} {z} {w} {u8} {i64}"
        ));
        i.wrapping_add(1)
    }
    fn ecall_in_bytes(&self, _o: &t::OcallProxy<'_>, buf: &[u8]) -> u64 {
        self.saw(format!("{buf:?}"));
        buf.iter().map(|b| u64::from(*b)).sum()
    }
    fn ecall_out_bytes(&self, _o: &t::OcallProxy<'_>, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = i as u8 ^ 0x5a;
        }
    }
    fn ecall_inout_count(&self, _o: &t::OcallProxy<'_>, vals: &mut [i32]) {
        for v in vals {
            *v = v.wrapping_mul(2);
        }
    }
    fn ecall_string(&self, _o: &t::OcallProxy<'_>, s: &str, ws: &str) -> usize {
        self.saw(format!("{s:?} {ws:?}"));
        s.len() + ws.len()
    }
    fn ecall_string_inout(&self, _o: &t::OcallProxy<'_>, s: &mut [u8]) {
        s.make_ascii_uppercase();
    }
    fn ecall_structs(
        &self,
        _o: &t::OcallProxy<'_>,
        recs: &[t::record],
        out_pt: &mut t::point,
        by_value: t::point,
    ) -> t::record {
        self.saw(format!("{recs:?} {by_value:?}"));
        *out_pt = t::point {
            x: by_value.y,
            y: by_value.x,
        };
        recs.last()
            .copied()
            .unwrap_or_else(<t::record as shield_edl::wire::Wire>::zeroed)
    }
    fn ecall_enum(&self, _o: &t::OcallProxy<'_>, c: t::color) -> t::color {
        if c == t::color::RED {
            t::color::BLUE
        } else {
            c
        }
    }
    fn ecall_arrays(
        &self,
        _o: &t::OcallProxy<'_>,
        a: &[i32; 4],
        b: &mut [[u16; 3]; 2],
        c: &mut [f64; 2],
    ) {
        for (i, row) in b.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = (a[i + j] as u16).wrapping_add(1);
            }
        }
        c.swap(0, 1);
    }
    fn ecall_shared_len(&self, _o: &t::OcallProxy<'_>, a: &[u32], b: &mut [u32]) {
        for (x, y) in a.iter().zip(b.iter_mut()) {
            *y = !x;
        }
    }
    fn ecall_const_len(&self, _o: &t::OcallProxy<'_>, key: &[u8], words: &mut [u32]) {
        for (i, w) in words.iter_mut().enumerate() {
            *w = u32::from_le_bytes([key[4 * i], key[4 * i + 1], key[4 * i + 2], key[4 * i + 3]]);
        }
    }
    fn ecall_single(&self, _o: &t::OcallProxy<'_>, p: &t::point, o: &mut i64, io: &mut f64) {
        *o = i64::from(p.x) * i64::from(p.y);
        *io = -*io;
    }
    fn ecall_private(&self, _o: &t::OcallProxy<'_>, x: i32) -> i32 {
        x
    }
    fn ecall_calls_out(&self, o: &t::OcallProxy<'_>, x: i32) -> i32 {
        o.ocall_log("calling out").unwrap();
        let e = o.ocall_errno(x).unwrap();
        let v = o.ocall_void_errno().unwrap();
        let mut buf = [0u8; 5];
        let pts = [t::point { x: 1, y: 2 }, t::point { x: 3, y: 4 }];
        let n = o.ocall_fill(&mut buf, &pts).unwrap();
        assert_eq!(buf, [7; 5]);
        e.value + e.errno + v.errno + n as i32
    }
}

/// The host's OCALL implementations.
#[derive(Default)]
struct Host {
    log: RefCell<Vec<String>>,
}

impl u::Ocalls for Host {
    fn ocall_log(&self, msg: &str) {
        self.log.borrow_mut().push(msg.to_string());
    }
    fn ocall_errno(&self, x: i32) -> WithErrno<i32> {
        WithErrno {
            value: x * 10,
            errno: 2,
        }
    }
    fn ocall_void_errno(&self) -> WithErrno<()> {
        WithErrno {
            value: (),
            errno: 100,
        }
    }
    fn ocall_fill(&self, buf: &mut [u8], pts: &[u::point]) -> u32 {
        buf.fill(7);
        pts.iter().map(|p| (p.x + p.y) as u32).sum()
    }
}

/// Host → enclave, in process.
struct Bridge<'a> {
    enclave: &'a Enclave,
    host: &'a Host,
    limits: Limits,
}

impl EcallTransport for Bridge<'_> {
    fn ecall(&self, index: u32, request: &[u8]) -> Result<Vec<u8>, BridgeError> {
        let private_copy = request.to_vec();
        t::dispatch_ecall(
            self.enclave,
            self,
            Caller::Host,
            index,
            &private_copy,
            self.limits,
        )
    }
}

impl OcallTransport for Bridge<'_> {
    fn ocall(&self, index: u32, request: &[u8]) -> Result<Vec<u8>, BridgeError> {
        // A real runtime copies out of shared memory here.
        u::dispatch_ocall(self.host, index, request, self.limits)
    }
}

fn with_bridge<R>(f: impl FnOnce(&u::EcallProxy<'_>, &Enclave, &Host) -> R) -> R {
    let enclave = Enclave::default();
    let host = Host::default();
    let bridge = Bridge {
        enclave: &enclave,
        host: &host,
        limits: Limits::default(),
    };
    let proxy = u::EcallProxy::new(&bridge, Limits::default());
    f(&proxy, &enclave, &host)
}

prop_compose! {
    fn upoint()(x in any::<i32>(), y in any::<i32>()) -> u::point { u::point { x, y } }
}

prop_compose! {
    fn urecord()(
        a in any::<(i8, i8, u8, i16, u16, i16, i32, u32)>(),
        b in any::<(u32, i32, i64, u64, i64, u64, f32, f64)>(),
        c in any::<(usize, i32, i8, i16, i32, i64, u8, u16)>(),
        d in any::<(u32, u64, i32, [u8; 3], [[i16; 3]; 2])>(),
        pt in upoint(), p0 in upoint(), p1 in upoint(),
    ) -> u::record {
        u::record {
            c: a.0, sc: a.1, uc: a.2, s: a.3, us: a.4, si: a.5, i: a.6, ui: a.7,
            u: b.0, sg: b.1, l: b.2, ul: b.3, ll: b.4, ull: b.5, f: b.6, d: b.7,
            z: c.0, w: c.1, i8: c.2, i16: c.3, i32: c.4, i64: c.5, u8: c.6, u16: c.7,
            u32: d.0, u64: d.1, col: u::color(d.2), pt, tag: d.3, grid: d.4, pts: [p0, p1],
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn scalars_survive(
        v in any::<(i8, i16, i32, i64, i64, u32, u64, f32)>(),
        w in any::<(f64, usize, i32, u8, i64)>(),
    ) {
        with_bridge(|p, e, _| {
            let r = p.ecall_scalars(v.0, v.1, v.2, v.3, v.4, v.5, v.6, v.7, w.0, w.1, w.2, w.3, w.4).unwrap();
            prop_assert_eq!(r, v.2.wrapping_add(1));
            let expect = format!("{} {} {} {} {} {} {} {:?} {:?} {} {} {} {}",
                v.0, v.1, v.2, v.3, v.4, v.5, v.6, v.7, w.0, w.1, w.2, w.3, w.4);
            prop_assert_eq!(&e.seen.borrow()[0], &expect);
            Ok(())
        })?;
    }

    #[test]
    fn buffers_survive(bytes in proptest::collection::vec(any::<u8>(), 0..300),
                       vals in proptest::collection::vec(any::<i32>(), 0..50)) {
        with_bridge(|p, e, _| {
            let sum = p.ecall_in_bytes(&bytes).unwrap();
            prop_assert_eq!(sum, bytes.iter().map(|b| u64::from(*b)).sum::<u64>());
            prop_assert_eq!(&e.seen.borrow()[0], &format!("{bytes:?}"));
            let mut out = vec![0u8; bytes.len()];
            p.ecall_out_bytes(&mut out).unwrap();
            prop_assert!(out.iter().enumerate().all(|(i, b)| *b == i as u8 ^ 0x5a));
            let mut io = vals.clone();
            p.ecall_inout_count(&mut io).unwrap();
            prop_assert_eq!(io, vals.iter().map(|v| v.wrapping_mul(2)).collect::<Vec<_>>());
            let a: Vec<u32> = vals.iter().map(|v| *v as u32).collect();
            let mut b = vec![0u32; a.len()];
            p.ecall_shared_len(&a, &mut b).unwrap();
            prop_assert_eq!(b, a.iter().map(|x| !x).collect::<Vec<_>>());
            Ok(())
        })?;
    }

    #[test]
    fn strings_survive(s in "[^\u{0}]{0,40}", ws in "[a-zé€]{0,10}") {
        with_bridge(|p, e, _| {
            let n = p.ecall_string(&s, &ws).unwrap();
            prop_assert_eq!(n, s.len() + ws.len());
            prop_assert_eq!(&e.seen.borrow()[0], &format!("{s:?} {ws:?}"));
            let mut m = s.clone().into_bytes();
            p.ecall_string_inout(&mut m).unwrap();
            prop_assert_eq!(m, s.to_ascii_uppercase().into_bytes());
            Ok(())
        })?;
    }

    #[test]
    fn structs_survive(recs in proptest::collection::vec(urecord(), 0..4), bv in upoint()) {
        with_bridge(|p, e, _| {
            let mut out = u::point { x: 0, y: 0 };
            let last = p.ecall_structs(&recs, &mut out, bv).unwrap();
            // The trusted side saw the same values (same Debug rendering).
            prop_assert_eq!(&e.seen.borrow()[0], &format!("{recs:?} {bv:?}"));
            prop_assert_eq!(out, u::point { x: bv.y, y: bv.x });
            let want = recs.last().copied().unwrap_or_else(<u::record as shield_edl::wire::Wire>::zeroed);
            prop_assert_eq!(format!("{last:?}"), format!("{want:?}"));
            Ok(())
        })?;
    }

    #[test]
    fn arrays_and_singles_survive(a in any::<[i32; 4]>(), c in any::<[f64; 2]>(), pt in upoint(), io in any::<f64>()) {
        with_bridge(|p, _, _| {
            let mut b = [[0u16; 3]; 2];
            let mut c2 = c;
            p.ecall_arrays(&a, &mut b, &mut c2).unwrap();
            prop_assert_eq!(b[1][2], (a[3] as u16).wrapping_add(1));
            prop_assert_eq!(c2[0].to_bits(), c[1].to_bits());
            let mut o = 0i64;
            let mut io2 = io;
            p.ecall_single(&pt, &mut o, &mut io2).unwrap();
            prop_assert_eq!(o, i64::from(pt.x) * i64::from(pt.y));
            prop_assert_eq!(io2.to_bits(), (-io).to_bits());
            Ok(())
        })?;
    }
}

#[test]
fn enums_and_constants() {
    with_bridge(|p, _, _| {
        assert_eq!(p.ecall_enum(u::color::RED).unwrap(), u::color::BLUE);
        assert_eq!(p.ecall_enum(u::color(42)).unwrap(), u::color(42));
    });
    assert_eq!(u::ANON_A, 3);
    assert_eq!(t::ANON_B, -2);
    assert_eq!(u::color::GREEN.0, 5);
    assert_eq!(t::ecall_index::ecall_calls_out, 13);
    assert_eq!(u::ocall_index::ocall_fill, 3);
    assert!(u::ECALLS[13].switchless);
    assert_eq!(t::OCALLS[3].allow, &[12]);
    assert!(t::OCALLS[1].propagate_errno);
}

#[test]
fn ocalls_and_errno() {
    with_bridge(|p, _, h| {
        // 7*10 + errno 2 + errno 100 + (1+2+3+4)
        assert_eq!(p.ecall_calls_out(7).unwrap(), 70 + 2 + 100 + 10);
        assert_eq!(h.log.borrow().as_slice(), ["calling out".to_string()]);
    });
}

#[test]
fn const_lengths_are_enforced() {
    with_bridge(|p, _, _| {
        let key: Vec<u8> = (0..16).collect();
        let mut words = [0u32; 4];
        p.ecall_const_len(&key, &mut words).unwrap();
        assert_eq!(words[1], u32::from_le_bytes([4, 5, 6, 7]));
        let err = p.ecall_const_len(&key[..15], &mut words).unwrap_err();
        assert!(matches!(
            err,
            BridgeError::Wire(WireError::LengthMismatch {
                expected: 16,
                found: 15
            })
        ));
        let err = p.ecall_shared_len(&[1, 2], &mut [0; 3]).unwrap_err();
        assert!(matches!(
            err,
            BridgeError::Wire(WireError::LengthMismatch { .. })
        ));
    });
}

#[test]
fn private_ecalls_need_an_allowing_ocall() {
    let enclave = Enclave::default();
    let host = Host::default();
    let bridge = Bridge {
        enclave: &enclave,
        host: &host,
        limits: Limits::default(),
    };
    let req = 5i32.to_le_bytes();
    let err = t::dispatch_ecall(&enclave, &bridge, Caller::Host, 12, &req, Limits::default())
        .unwrap_err();
    assert_eq!(err, BridgeError::NotAllowed { ecall: 12 });
    let err = t::dispatch_ecall(
        &enclave,
        &bridge,
        Caller::Ocall(0),
        12,
        &req,
        Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err, BridgeError::NotAllowed { ecall: 12 });
    let ok = t::dispatch_ecall(
        &enclave,
        &bridge,
        Caller::Ocall(3),
        12,
        &req,
        Limits::default(),
    )
    .unwrap();
    assert_eq!(ok, 5i32.to_le_bytes());
    let err =
        t::dispatch_ecall(&enclave, &bridge, Caller::Host, 99, &[], Limits::default()).unwrap_err();
    assert_eq!(err, BridgeError::UnknownFunction(99));
}

#[test]
fn hostile_requests_are_bounded() {
    let enclave = Enclave::default();
    let host = Host::default();
    let bridge = Bridge {
        enclave: &enclave,
        host: &host,
        limits: Limits::default(),
    };
    // ecall_out_bytes: a length of 4 GiB - 1 must be refused before allocating.
    let req = u32::MAX.to_le_bytes();
    let err =
        t::dispatch_ecall(&enclave, &bridge, Caller::Host, 2, &req, Limits::default()).unwrap_err();
    assert!(
        matches!(err, BridgeError::Wire(WireError::TooLarge { .. })),
        "{err:?}"
    );
    // A small budget bounds even modest lengths.
    let req = 100u32.to_le_bytes();
    let err = t::dispatch_ecall(
        &enclave,
        &bridge,
        Caller::Host,
        2,
        &req,
        Limits { max_alloc: 64 },
    )
    .unwrap_err();
    assert!(matches!(err, BridgeError::Wire(WireError::TooLarge { .. })));
    // ecall_in_bytes: a length larger than the bytes present.
    let mut req = 1000usize.to_le_bytes().to_vec();
    req.extend_from_slice(&[1, 2, 3]);
    let err =
        t::dispatch_ecall(&enclave, &bridge, Caller::Host, 1, &req, Limits::default()).unwrap_err();
    assert!(matches!(
        err,
        BridgeError::Wire(WireError::Truncated { .. })
    ));
    // ecall_inout_count: a negative count.
    let req = (-1i32).to_le_bytes();
    let err =
        t::dispatch_ecall(&enclave, &bridge, Caller::Host, 3, &req, Limits::default()).unwrap_err();
    assert_eq!(err, BridgeError::Wire(WireError::BadLength));
    // Trailing bytes.
    let req = [0u8; 5];
    let err =
        t::dispatch_ecall(&enclave, &bridge, Caller::Host, 7, &req, Limits::default()).unwrap_err();
    assert!(matches!(
        err,
        BridgeError::Wire(WireError::TrailingBytes(1))
    ));
    // Strings with NUL or bad UTF-8.
    let mut req = 2u32.to_le_bytes().to_vec();
    req.extend_from_slice(&[b'a', 0]);
    req.extend_from_slice(&0u32.to_le_bytes());
    let err =
        t::dispatch_ecall(&enclave, &bridge, Caller::Host, 4, &req, Limits::default()).unwrap_err();
    assert_eq!(err, BridgeError::Wire(WireError::InteriorNul));
}
