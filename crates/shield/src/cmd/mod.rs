//! One module per subcommand: a clap `Args` struct and `run(args) -> Result<ExitCode>`.

pub(crate) mod demo;
pub(crate) mod edl;
pub(crate) mod enclave_key;
pub(crate) mod exec;
pub(crate) mod keygen;
pub(crate) mod measure;
pub(crate) mod new;
pub(crate) mod open;
pub(crate) mod pack;
pub(crate) mod run;
pub(crate) mod sign;
pub(crate) mod sigstruct;
pub(crate) mod verify;

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The language of entry script `file`: `lang` when given, else the one its
/// extension names.
pub(crate) fn entry_language(
    file: &Path,
    lang: Option<shield_bundle::Language>,
) -> Result<shield_bundle::Language> {
    if let Some(lang) = lang {
        return Ok(lang);
    }
    shield_bundle::Language::of_entry(file).with_context(|| {
        let known: Vec<String> = shield_bundle::Language::ALL
            .iter()
            .map(|l| format!("{} (.{})", l.as_str(), l.extensions().join(", .")))
            .collect();
        format!(
            "{}: the extension names no script language; say which with --lang ({})",
            file.display(),
            known.join(", ")
        )
    })
}

/// Writes a secret to a new file readable by its owner only (mode 0600).
/// Refuses to overwrite unless `force`: losing a key is worse than an error.
pub(crate) fn write_secret_file(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).mode(0o600);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).with_context(|| {
        if path.exists() && !force {
            format!("{} exists; pass --force to replace it", path.display())
        } else {
            format!("creating {}", path.display())
        }
    })?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Reads a whole input file of at most `max` bytes, naming it in the error.
/// Its size is not trusted: reading stops one byte past `max`.
pub(crate) fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() as u64 > max {
        bail!("{} is more than the {max} bytes accepted", path.display());
    }
    Ok(bytes)
}

/// [`read_bounded`], for a text file.
pub(crate) fn read_text(path: &Path, max: u64) -> Result<String> {
    String::from_utf8(read_bounded(path, max)?)
        .with_context(|| format!("{} is not UTF-8", path.display()))
}

/// Opens `path` for reading if it is a regular file. The open does not
/// block (a FIFO would wait for a writer), and devices are refused: they
/// can be endless.
fn open_regular(path: &Path) -> Result<File> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("reading {}", path.display()))?;
    let file = File::from(fd);
    let meta = file
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?;
    if !meta.is_file() {
        bail!("{} is not a regular file", path.display());
    }
    Ok(file)
}

/// The script limits `pack` and `exec` take (each command says its defaults).
#[derive(Debug, clap::Args)]
pub(crate) struct LimitFlags {
    /// Most VM instructions the script may run (0: no limit).
    #[arg(long)]
    pub(crate) max_instructions: Option<u64>,
    /// Most memory the script may use, e.g. 64M (0: no limit).
    #[arg(long, value_parser = shield_sgx::config::parse_size)]
    pub(crate) max_memory: Option<u64>,
    /// Most output: stdout, stderr and written files together, e.g. 64M (0: no limit).
    #[arg(long, value_parser = shield_sgx::config::parse_size)]
    pub(crate) max_output: Option<u64>,
}

/// Parses a `--timeout`: seconds, or a number with `s`, `m` or `h` (0: no
/// limit, see [`timeout`]).
pub(crate) fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    let (digits, unit) = match text.char_indices().last() {
        Some((i, 's')) => (&text[..i], 1),
        Some((i, 'm')) => (&text[..i], 60),
        Some((i, 'h')) => (&text[..i], 3600),
        _ => (text, 1),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 90, 90s, 15m, 2h)"))?;
    let secs = n
        .checked_mul(unit)
        .ok_or_else(|| format!("{text:?} is too long"))?;
    Ok(std::time::Duration::from_secs(secs))
}

/// The `--timeout` flag (run and exec). The engines count instructions,
/// memory and output; this bounds the time a run takes on the host's clock
/// ([`crate::interrupt::Deadline`]).
#[derive(Debug, clap::Args)]
pub(crate) struct TimeoutFlag {
    /// Stop the run after this long on the host's clock, e.g. 90s, 15m, 2h
    /// (exit status 3, nothing kept; default and 0: no limit).
    #[arg(long, value_parser = parse_timeout, value_name = "DURATION")]
    timeout: Option<std::time::Duration>,
}

impl TimeoutFlag {
    /// The limit, if any.
    pub(crate) fn limit(&self) -> Option<std::time::Duration> {
        self.timeout.filter(|d| !d.is_zero())
    }
}

impl LimitFlags {
    /// Instructions, memory and output: each flag over its default, 0
    /// meaning "no limit".
    pub(crate) fn over(
        &self,
        instructions: Option<u64>,
        memory: Option<u64>,
        output: Option<u64>,
    ) -> [Option<u64>; 3] {
        let pick = |flag: Option<u64>, default| match flag {
            Some(0) => None,
            Some(n) => Some(n),
            None => default,
        };
        [
            pick(self.max_instructions, instructions),
            pick(self.max_memory, memory),
            pick(self.max_output, output),
        ]
    }
}
