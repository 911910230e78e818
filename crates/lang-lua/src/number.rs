//! Numbers as Lua 5.4 reads and writes them: numerals (decimal and
//! hexadecimal, integer and float), `%.14g` output, and the integer/float
//! conversions of arithmetic.

use crate::value::{Value, float_to_int};

/// Parses a Lua numeral (surrounding spaces allowed), as `tonumber` and the
/// lexer do; `None` if it is not one.
pub fn str_to_number(s: &[u8]) -> Option<Value> {
    let s = trim(s);
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.len() >= 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        return hex_number(&body[2..], neg);
    }
    if body.is_empty()
        || !body
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    if body.iter().all(u8::is_ascii_digit) {
        // Decimal integer; on overflow it is a float.
        let mut v: i64 = 0;
        let mut overflow = false;
        for &c in body {
            match v
                .checked_mul(10)
                .and_then(|v| v.checked_add((c - b'0') as i64))
            {
                Some(n) => v = n,
                None => {
                    overflow = true;
                    break;
                }
            }
        }
        if !overflow {
            return Some(Value::Int(if neg { v.wrapping_neg() } else { v }));
        }
        if neg && body == b"9223372036854775808" {
            return Some(Value::Int(i64::MIN));
        }
    }
    let text = std::str::from_utf8(body).ok()?;
    // Rust's parser accepts forms Lua refuses ("inf", "nan", "1e"); the
    // character check above rules out letters but 'e'.
    if text.starts_with(['e', 'E']) || text == "." {
        return None;
    }
    let f: f64 = text.parse().ok()?;
    Some(Value::Num(if neg { -f } else { f }))
}

fn trim(s: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = s.iter().position(|c| !ws(c)).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !ws(c)).map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

fn hex_number(s: &[u8], neg: bool) -> Option<Value> {
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut any = false;
    let mut dot = false;
    let mut float = false;
    let mut i = 0;
    let mut fmant: f64 = 0.0;
    while i < s.len() {
        let c = s[i];
        if c == b'.' {
            if dot {
                return None;
            }
            dot = true;
            float = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            any = true;
            mant = mant.wrapping_mul(16).wrapping_add(d as u64);
            fmant = fmant * 16.0 + d as f64;
            if dot {
                exp -= 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if i < s.len() && (s[i] | 0x20) == b'p' {
        float = true;
        i += 1;
        let mut eneg = false;
        if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
            eneg = s[i] == b'-';
            i += 1;
        }
        let start = i;
        let mut e: i64 = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            e = (e * 10 + (s[i] - b'0') as i64).min(100_000);
            i += 1;
        }
        if i == start {
            return None;
        }
        exp += if eneg { -e } else { e };
    }
    if i != s.len() {
        return None;
    }
    if float {
        let f = fmant * 2f64.powi(exp.clamp(-3000, 3000) as i32);
        Some(Value::Num(if neg { -f } else { f }))
    } else {
        // Hex integers wrap around, as in C Lua.
        let v = mant as i64;
        Some(Value::Int(if neg { v.wrapping_neg() } else { v }))
    }
}

/// Formats a float as Lua's `%.14g`, adding `.0` when it looks like an integer.
pub fn fmt_float(f: f64) -> String {
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f.is_nan() {
        return if f.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    let mut s = fmt_g(f, 14, false);
    if !s.bytes().any(|c| matches!(c, b'.' | b'e' | b'n' | b'i')) {
        s.push_str(".0");
    }
    s
}

/// C's `%.{prec}g` (with `#` keeping trailing zeros when `alt`).
pub fn fmt_g(f: f64, prec: usize, alt: bool) -> String {
    if !f.is_finite() {
        return fmt_float(f);
    }
    let prec = prec.max(1);
    if f == 0.0 {
        let mut s = if f.is_sign_negative() {
            "-0".to_string()
        } else {
            "0".to_string()
        };
        if alt && prec > 1 {
            s.push('.');
            s.push_str(&"0".repeat(prec - 1));
        }
        return s;
    }
    if !alt
        && prec <= 15
        && f.is_normal()
        && let Some(s) = fmt_g_shortest(f, prec)
    {
        return s;
    }
    let e = format!("{:.*e}", prec - 1, f);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let mant = if alt {
            mant.to_string()
        } else {
            strip_zeros(mant)
        };
        format!(
            "{}e{}{:02}",
            mant,
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    } else {
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        let s = format!("{:.*}", decimals, f);
        if alt { s } else { strip_zeros(&s) }
    }
}

/// `%.{prec}g` of a normal `f` from its shortest round-trip digits,
/// when there are at most `prec` of them: the exact value then rounds to
/// those same digits at `prec` places (it is within half an ulp of them,
/// below half a unit of the 15th digit; not so for subnormals, whose ulp
/// is coarser), and formatting them is far cheaper
/// than the exact conversion (`tostring` of floats spent its time there).
fn fmt_g_shortest(f: f64, prec: usize) -> Option<String> {
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e')?;
    let exp: i32 = exp.parse().ok()?;
    let digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > prec {
        return None;
    }
    let mut out = Vec::with_capacity(24);
    if mant.starts_with('-') {
        out.push(b'-');
    }
    if exp < -4 || exp >= prec as i32 {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.extend_from_slice(
            format!("e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs()).as_bytes(),
        );
    } else if exp >= 0 {
        let int_digits = exp as usize + 1;
        if digits.len() <= int_digits {
            out.extend_from_slice(&digits);
            out.resize(out.len() + int_digits - digits.len(), b'0');
        } else {
            out.extend_from_slice(&digits[..int_digits]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_digits..]);
        }
    } else {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + (-exp - 1) as usize, b'0');
        out.extend_from_slice(&digits);
    }
    String::from_utf8(out).ok()
}

fn strip_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// Integer floor division (Lua `//` on integers); `None` for division by zero.
pub fn idiv(a: i64, b: i64) -> Option<i64> {
    if b == 0 {
        return None;
    }
    if b == -1 {
        return Some(a.wrapping_neg());
    }
    let q = a / b;
    Some(if (a % b != 0) && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    })
}

/// Integer modulo with the sign of the divisor; `None` for zero.
pub fn imod(a: i64, b: i64) -> Option<i64> {
    if b == 0 {
        return None;
    }
    if b == -1 {
        return Some(0);
    }
    let r = a % b;
    Some(if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    })
}

/// Float modulo as Lua defines it.
pub fn fmod(a: f64, b: f64) -> f64 {
    if b.is_infinite() && a.is_finite() {
        return if (a >= 0.0) == (b > 0.0) || a == 0.0 {
            a
        } else {
            b
        };
    }
    let r = a % b;
    if r != 0.0 && ((r < 0.0) != (b < 0.0)) {
        r + b
    } else {
        r
    }
}

/// Shift left (negative shifts right), logical, as Lua's `<<`.
pub fn shl(a: i64, b: i64) -> i64 {
    if b <= -64 || b >= 64 {
        0
    } else if b >= 0 {
        ((a as u64) << b) as i64
    } else {
        ((a as u64) >> (-b)) as i64
    }
}

/// A float with an exact integer value as an integer (for bitwise operands
/// and `math.tointeger`).
pub fn to_int_exact(v: Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(i),
        Value::Num(f) => float_to_int(f),
        _ => None,
    }
}
