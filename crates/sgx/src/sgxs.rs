//! SGXS streams (Fortanix's format): the measurement records themselves, each
//! 64 bytes, an EEXTEND record followed by its 256 bytes of data. Two record
//! kinds are not measured: `UNSIZED\0` (an ECREATE whose size is filled in
//! later; refused here, since it cannot be measured) and `UNMEASRD` (a
//! 256-byte chunk loaded but not measured, skipped with its data).
//!
//! The reader is streaming: memory use does not depend on the input size.

use std::io::Read;

use crate::measure::{Measurement, Measurer, PAGE_SIZE, TAG_EADD, TAG_ECREATE, TAG_EEXTEND};
use crate::{Error, Result};

const TAG_UNSIZED: [u8; 8] = *b"UNSIZED\0";
const TAG_UNMEASURED: [u8; 8] = *b"UNMEASRD";

/// What an SGXS stream measures to, with a few facts about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SgxsSummary {
    /// The MRENCLAVE (ENCLAVEHASH) of the stream.
    pub mrenclave: Measurement,
    /// SECS.SIZE from the ECREATE record.
    pub size: u64,
    /// SECS.SSAFRAMESIZE from the ECREATE record.
    pub ssa_frame_size: u32,
    /// Pages added.
    pub pages: u64,
    /// 256-byte chunks measured.
    pub measured_chunks: u64,
}

/// Reads a whole SGXS stream and computes its MRENCLAVE.
pub fn measure_sgxs(mut input: impl Read) -> Result<SgxsSummary> {
    let mut record = [0u8; 64];
    let mut position: u64 = 0;
    if !read_record(&mut input, &mut record, position)? {
        return Err(Error::Sgxs {
            offset: 0,
            reason: "empty stream".into(),
        });
    }
    let tag: [u8; 8] = record[..8].try_into().map_err(|_| Error::Internal("tag"))?;
    if tag == TAG_UNSIZED {
        return Err(Error::Sgxs {
            offset: 0,
            reason: "unsized stream (UNSIZED record): the enclave size is not fixed yet".into(),
        });
    }
    if tag != TAG_ECREATE {
        return Err(Error::Sgxs {
            offset: 0,
            reason: format!(
                "expected an ECREATE record, found tag {}",
                describe_tag(&tag)
            ),
        });
    }
    let ssa_frame_size = u32::from_le_bytes(le_bytes(&record[8..12])?);
    let size = u64::from_le_bytes(le_bytes(&record[12..20])?);
    if record[20..].iter().any(|&b| b != 0) {
        return Err(Error::Sgxs {
            offset: 0,
            reason: "reserved ECREATE bytes are not zero".into(),
        });
    }
    // What ECREATE itself refuses (as `Layout::validate` does).
    if !size.is_power_of_two() || size < 2 * PAGE_SIZE {
        return Err(Error::Sgxs {
            offset: 12,
            reason: format!("enclave size {size:#x} is not a power of two of at least 8 KiB"),
        });
    }
    if ssa_frame_size == 0 {
        return Err(Error::Sgxs {
            offset: 8,
            reason: "SSA frame size is zero".into(),
        });
    }
    let mut measurer = Measurer::ecreate(ssa_frame_size, size);
    let mut summary = SgxsSummary {
        mrenclave: [0; 32],
        size,
        ssa_frame_size,
        pages: 0,
        measured_chunks: 0,
    };
    position += 64;

    let mut chunk = [0u8; 256];
    while read_record(&mut input, &mut record, position)? {
        let tag: [u8; 8] = record[..8].try_into().map_err(|_| Error::Internal("tag"))?;
        let offset = u64::from_le_bytes(le_bytes(&record[8..16])?);
        if offset >= size {
            return Err(Error::Sgxs {
                offset: position,
                reason: format!("record offset {offset:#x} is outside the {size:#x}-byte enclave"),
            });
        }
        match tag {
            TAG_EADD => {
                if !offset.is_multiple_of(4096) {
                    return Err(Error::Sgxs {
                        offset: position,
                        reason: format!("EADD offset {offset:#x} is not page-aligned"),
                    });
                }
                measurer.update_raw(&record);
                summary.pages += 1;
            }
            TAG_EEXTEND | TAG_UNMEASURED => {
                if !offset.is_multiple_of(256) {
                    return Err(Error::Sgxs {
                        offset: position,
                        reason: format!("chunk offset {offset:#x} is not 256-byte aligned"),
                    });
                }
                if !read_exact_or_eof(&mut input, &mut chunk)? {
                    return Err(Error::Sgxs {
                        offset: position + 64,
                        reason: "stream ends inside a 256-byte chunk".into(),
                    });
                }
                if tag == TAG_EEXTEND {
                    measurer.update_raw(&record);
                    measurer.update_raw(&chunk);
                    summary.measured_chunks += 1;
                }
                position += 256;
            }
            TAG_ECREATE | TAG_UNSIZED => {
                return Err(Error::Sgxs {
                    offset: position,
                    reason: "a second ECREATE record".into(),
                });
            }
            other => {
                return Err(Error::Sgxs {
                    offset: position,
                    reason: format!("unknown record tag {}", describe_tag(&other)),
                });
            }
        }
        position += 64;
    }
    summary.mrenclave = measurer.finish();
    Ok(summary)
}

fn le_bytes<const N: usize>(bytes: &[u8]) -> Result<[u8; N]> {
    bytes.try_into().map_err(|_| Error::Internal("field width"))
}

/// Reads one 64-byte record; `false` at a clean end of stream.
fn read_record(input: &mut impl Read, record: &mut [u8; 64], position: u64) -> Result<bool> {
    match fill(input, record)? {
        Fill::Full => Ok(true),
        Fill::Empty => Ok(false),
        Fill::Partial => Err(Error::Sgxs {
            offset: position,
            reason: "stream ends inside a record".into(),
        }),
    }
}

/// Reads a chunk's data; `false` if the stream ends first.
fn read_exact_or_eof(input: &mut impl Read, buf: &mut [u8]) -> Result<bool> {
    Ok(fill(input, buf)? == Fill::Full)
}

#[derive(Debug, PartialEq, Eq)]
enum Fill {
    Full,
    Empty,
    Partial,
}

fn fill(input: &mut impl Read, buf: &mut [u8]) -> Result<Fill> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::Io(e)),
        }
    }
    Ok(match filled {
        0 => Fill::Empty,
        n if n == buf.len() => Fill::Full,
        _ => Fill::Partial,
    })
}

fn describe_tag(tag: &[u8; 8]) -> String {
    if tag.iter().all(|b| b.is_ascii_graphic() || *b == 0) {
        format!("{:?}", String::from_utf8_lossy(tag).trim_end_matches('\0'))
    } else {
        format!("0x{:016x}", u64::from_le_bytes(*tag))
    }
}
