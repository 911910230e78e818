//! Development mode's view of the host (`ecall_exec` only, in the
//! development enclave): the plaintext files of the host's script directory,
//! its stdin and its stdout/stderr, through the `ocall_dev_*` OCALLs.

use std::io;

use shield_engine::vfs::{DirEntry, EntryKind};

use crate::outside::{CHUNK, host};

/// The first request's size when reading a host file or listing.
const FIRST_CHUNK: usize = 16 * 1024;

/// Development mode: the files of the host's script directory, plaintext.
#[derive(Debug)]
pub(crate) struct HostDirectory {
    /// Largest file read.
    pub(crate) max_file: u64,
}

impl HostDirectory {
    /// Everything the host answers for `path` through `ocall` (one of the
    /// offset-and-chunk OCALLs), up to `max_file` bytes; `Ok(None)` when
    /// the host says there is nothing there.
    fn fetch(
        &self,
        path: &str,
        ocall: impl Fn(u64, &mut [u8], &mut u64) -> Result<i32, shield_enclave::wire::BridgeError>,
    ) -> io::Result<Option<Vec<u8>>> {
        let mut data = Vec::new();
        // An `[out]` buffer crosses the boundary whole, whatever the host
        // fills: start small (most scripts and modules are a few KiB) and
        // double up to `CHUNK` while the file goes on.
        let mut buf = vec![0u8; FIRST_CHUNK];
        loop {
            let mut got = 0u64;
            let status = ocall(data.len() as u64, &mut buf, &mut got).map_err(io::Error::other)?;
            match status {
                0 if data.is_empty() => return Ok(None),
                0 | 1 => {}
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        format!("{path}: the host refused it"),
                    ));
                }
            }
            let got = usize::try_from(got)
                .ok()
                .filter(|&g| g <= buf.len())
                .ok_or_else(|| io::Error::other("the host returned more than asked"))?;
            if data.len() as u64 + got as u64 > self.max_file {
                return Err(io::Error::other(format!(
                    "{path} is larger than {} bytes",
                    self.max_file
                )));
            }
            data.extend_from_slice(&buf[..got]);
            if got < buf.len() {
                return Ok(Some(data));
            }
            buf.resize((buf.len() * 2).min(CHUNK), 0);
        }
    }
}

impl shield_engine::vfs::ReadLayer for HostDirectory {
    fn read(&mut self, path: &str) -> io::Result<Option<Vec<u8>>> {
        self.fetch(path, |offset, buf, got| {
            host().ocall_dev_read_file(path, offset, buf, got)
        })
    }

    fn list(&mut self, dir: &str) -> io::Result<Option<Vec<DirEntry>>> {
        let Some(listing) = self.fetch(dir, |offset, buf, got| {
            host().ocall_dev_list_dir(dir, offset, buf, got)
        })?
        else {
            return Ok(None);
        };
        parse_listing(&listing).map(Some).ok_or_else(|| {
            io::Error::other(format!("{dir}: the host's directory listing is malformed"))
        })
    }
}

/// Decodes `ocall_dev_list_dir`'s listing; `None` if it is malformed.
fn parse_listing(listing: &[u8]) -> Option<Vec<DirEntry>> {
    let Some(body) = listing.strip_suffix(&[0]) else {
        return listing.is_empty().then(Vec::new);
    };
    let mut entries = body
        .split(|&b| b == 0)
        .map(|item| {
            let (&kind, name) = item.split_first()?;
            let kind = match kind {
                b'f' => EntryKind::File,
                b'd' => EntryKind::Directory,
                _ => return None,
            };
            let name = std::str::from_utf8(name).ok()?;
            (!name.is_empty() && !name.contains('/') && name != "." && name != "..").then(|| {
                DirEntry {
                    name: name.to_owned(),
                    kind,
                }
            })
        })
        .collect::<Option<Vec<_>>>()?;
    entries.sort();
    entries.dedup_by(|a, b| a.name == b.name);
    Some(entries)
}

/// Development mode: the host's stdin.
#[derive(Debug)]
pub(crate) struct HostStdin;

impl io::Read for HostStdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min(64 * 1024);
        let mut got = 0u64;
        let status = host()
            .ocall_dev_stdin(&mut buf[..want], &mut got)
            .map_err(io::Error::other)?;
        match usize::try_from(got) {
            Ok(got) if status == 0 && got <= want => Ok(got),
            _ => Err(io::Error::other("the host's stdin answer is invalid")),
        }
    }
}

/// Development mode: the host's stdout (fd 1) or stderr (fd 2), buffered so
/// that a chatty script does not make one OCALL per `print`.
#[derive(Debug)]
pub(crate) struct HostOutput {
    fd: i32,
    buffer: Vec<u8>,
    limit: usize,
}

impl HostOutput {
    /// Stdout is block-buffered (as C Lua's is into a pipe), stderr not.
    pub(crate) fn new(fd: i32) -> Self {
        let limit = if fd == 1 { 64 * 1024 } else { 0 };
        Self {
            fd,
            buffer: Vec::new(),
            limit,
        }
    }
}

impl io::Write for HostOutput {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() > self.limit {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        for piece in self.buffer.chunks(CHUNK) {
            match host().ocall_dev_output(self.fd, piece) {
                Ok(0) => {}
                Ok(status) => return Err(io::Error::other(format!("host output status {status}"))),
                Err(e) => return Err(io::Error::other(e)),
            }
        }
        self.buffer.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_from_the_host_are_checked() {
        let listing = parse_listing(b"fa.lua\0dlib\0").unwrap();
        assert_eq!(listing.len(), 2);
        assert_eq!(listing[1].kind, EntryKind::Directory);
        assert_eq!(parse_listing(b"").unwrap(), []);
        for bad in [
            &b"fa"[..],
            b"xa\0",
            b"f\0",
            b"f../x\0",
            b"d..\0",
            b"f\xff\0",
        ] {
            assert_eq!(parse_listing(bad), None, "{bad:?}");
        }
    }
}
