//! `string.dump` and binary chunks. The format is this VM's own behind Lua
//! 5.4's header (signature, version, format, LUAC_DATA, sizes, LUAC_INT and
//! LUAC_NUM, as calls.lua checks): a strip flag, the function's place in its
//! chunk (child indices from the main function), the chunk name and the
//! chunk's source text. Loading checks every header byte and every length
//! against the bytes actually present, then compiles the text with the
//! ordinary (fuzzed) parser and compiler and picks the function out by its
//! place. So a malformed binary chunk can do nothing a malformed text chunk
//! cannot: no bytecode is ever trusted, and no allocation is sized by a
//! length the chunk claims before the bytes are seen to be there.
//!
//! What differs from C Lua: a dump carries the source text, even stripped
//! (a stripped function loses only its lines, local and upvalue names, and
//! its chunk name).

use std::rc::Rc;

use crate::lib_base::chunk_id;
use crate::proto::Proto;
use crate::vm::Vm;

/// Lua 5.4's header up to the sizes of instruction, integer and float.
const HEADER: &[u8] = b"\x1bLua\x54\x00\x19\x93\r\n\x1a\n\x04\x08\x08";
/// LUAC_INT and LUAC_NUM of the reference.
const CHECK_INT: i64 = 0x5678;
const CHECK_NUM: f64 = 370.5;

/// The binary chunk of `p`, whose chunk's source is `text`.
pub fn dump(p: &Proto, text: &[u8], strip: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER.len() + 40 + p.chunkname.len() + text.len());
    out.extend_from_slice(HEADER);
    out.extend_from_slice(&CHECK_INT.to_le_bytes());
    out.extend_from_slice(&CHECK_NUM.to_le_bytes());
    out.push(u8::from(strip || p.stripped));
    put_len(&mut out, p.path.len());
    for &i in &p.path {
        out.extend_from_slice(&i.to_le_bytes());
    }
    // A stripped dump keeps no source name (C Lua's neither).
    let name: &[u8] = if strip || p.stripped {
        b"=?"
    } else {
        &p.chunkname
    };
    put_len(&mut out, name.len());
    out.extend_from_slice(name);
    put_len(&mut out, text.len());
    out.extend_from_slice(text);
    out
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u64).to_le_bytes());
}

/// Reads a binary chunk: the function it holds, or C Lua's wording of what
/// is wrong with it (`name: bad binary format (truncated chunk)`...).
pub fn undump(vm: &mut Vm, b: &[u8], name: &[u8]) -> Result<Rc<Proto>, String> {
    // As C Lua's undump names a chunk: not `chunk_id`'s `[string "..."]`.
    let id = match name.first() {
        Some(b'@' | b'=') => String::from_utf8_lossy(&name[1..]).into_owned(),
        Some(0x1b) => "binary string".to_owned(),
        _ => String::from_utf8_lossy(name).into_owned(),
    };
    let bad = |why: &str| format!("{id}: bad binary format ({why})");
    let mut r = Reader { b, at: 0 };
    // Each header byte is checked on its own, as the reference does, so a
    // short chunk is reported as truncated rather than as a mismatch.
    for (i, &want) in HEADER.iter().enumerate() {
        let got = r.take(1).ok_or_else(|| bad("truncated chunk"))?[0];
        if got != want {
            return Err(bad(match i {
                0..=3 => "not a binary chunk",
                4 => "version mismatch",
                5 => "format mismatch",
                6..=11 => "corrupted chunk",
                12 => "Instruction size mismatch",
                13 => "lua_Integer size mismatch",
                _ => "lua_Number size mismatch",
            }));
        }
    }
    let ci = r.take(8).ok_or_else(|| bad("truncated chunk"))?;
    if i64::from_le_bytes(ci.try_into().unwrap_or([0; 8])) != CHECK_INT {
        return Err(bad("integer format mismatch"));
    }
    let cn = r.take(8).ok_or_else(|| bad("truncated chunk"))?;
    if f64::from_le_bytes(cn.try_into().unwrap_or([0; 8])) != CHECK_NUM {
        return Err(bad("float format mismatch"));
    }
    let strip = match r.take(1).ok_or_else(|| bad("truncated chunk"))?[0] {
        0 => false,
        1 => true,
        _ => return Err(bad("corrupted chunk")),
    };
    let npath = r.len().ok_or_else(|| bad("truncated chunk"))?;
    // Four bytes an entry must be there before the path is built.
    if npath > r.rest() / 4 {
        return Err(bad("truncated chunk"));
    }
    let mut path = Vec::with_capacity(npath);
    for _ in 0..npath {
        let e = r.take(4).ok_or_else(|| bad("truncated chunk"))?;
        path.push(u32::from_le_bytes(e.try_into().unwrap_or([0; 4])));
    }
    let nname = r.len().ok_or_else(|| bad("truncated chunk"))?;
    let chunkname = r.take(nname).ok_or_else(|| bad("truncated chunk"))?;
    let ntext = r.len().ok_or_else(|| bad("truncated chunk"))?;
    let text = r.take(ntext).ok_or_else(|| bad("truncated chunk"))?;
    if r.rest() != 0 {
        return Err(bad("corrupted chunk"));
    }
    if text.first() == Some(&0x1b) {
        return Err(bad("corrupted chunk"));
    }
    let src_id = chunk_id(chunkname);
    let body = crate::parser::parse(text, &src_id).map_err(|_| bad("corrupted chunk"))?;
    let mut p = crate::compiler::compile(&body, &mut vm.heap, &src_id, chunkname, text)
        .map_err(|_| bad("corrupted chunk"))?;
    for &i in &path {
        let next = p
            .protos
            .get(i as usize)
            .cloned()
            .ok_or_else(|| bad("corrupted chunk"))?;
        p = next;
    }
    Ok(if strip { Rc::new(stripped(&p)) } else { p })
}

/// A copy of `p` and its children without debug information.
fn stripped(p: &Proto) -> Proto {
    Proto {
        code: p.code.clone(),
        lines: Vec::new(),
        consts: p.consts.clone(),
        protos: p.protos.iter().map(|c| Rc::new(stripped(c))).collect(),
        upvals: p
            .upvals
            .iter()
            .map(|&(s, i, _)| (s, i, Vec::new()))
            .collect(),
        nparams: p.nparams,
        vararg: p.vararg,
        maxstack: p.maxstack,
        source: "?".into(),
        chunkname: b"=?".as_slice().into(),
        line: p.line,
        end_line: p.end_line,
        locals: Vec::new(),
        text: p.text,
        path: p.path.clone(),
        stripped: true,
        hints: vec![Default::default(); p.code.len()],
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> usize {
        self.b.len() - self.at
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.rest() {
            return None;
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Some(s)
    }

    /// A length field; never more than the bytes left, so it cannot size an
    /// allocation by itself.
    fn len(&mut self) -> Option<usize> {
        let l = u64::from_le_bytes(self.take(8)?.try_into().ok()?);
        usize::try_from(l).ok().filter(|&l| l <= self.rest())
    }
}
