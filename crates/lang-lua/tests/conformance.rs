//! Runs the programs under `tests/programs/` with the real `lua5.4` and with
//! `LuaVm` (over host directories and in memory) and requires identical
//! stdout, exit status and written files.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use shield_engine::vfs::{DirReader, DirWriter, MemoryFiles, MemoryWrites, Overlay, Vfs};
use shield_engine::{Engine, Job, Limits, SystemClock};
use shield_lang_lua::LuaVm;

struct Program {
    name: &'static str,
    args: &'static [&'static str],
    stdin: &'static str,
    status: i32,
}

const PROGRAMS: &[Program] = &[
    Program {
        name: "basics",
        args: &["one", "two words", "3"],
        stdin: "first line of input\n  12   3.5\nremaining\ntext\n",
        status: 0,
    },
    Program {
        name: "exit",
        args: &["3"],
        stdin: "1 2 3.5\n4\n10 x",
        status: 3,
    },
    Program {
        name: "error",
        args: &[],
        stdin: "",
        status: 1,
    },
];

/// What a run produced.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    stdout: String,
    status: i32,
    /// stderr, without lua.c's closing `[C]: in ?` traceback line.
    stderr: String,
    /// Files created or changed, by relative path.
    files: BTreeMap<String, Vec<u8>>,
}

fn program_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/programs")
        .join(name)
}

fn scratch(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "shield-engine-conf-{}-{}-{tag}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// All files under `dir`, by relative path.
fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn stderr_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| *l != "\t[C]: in ?")
        .map(|l| format!("{l}\n"))
        .collect()
}

fn run_lua54(p: &Program) -> Observed {
    let original = read_tree(&program_dir(p.name));
    let dir = scratch("lua54");
    for (rel, content) in &original {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    let mut child = Command::new("lua5.4")
        .arg("main.lua")
        .args(p.args)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(p.stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let files = read_tree(&dir)
        .into_iter()
        .filter(|(rel, content)| original.get(rel) != Some(content))
        .collect();
    let _ = fs::remove_dir_all(&dir);
    Observed {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        status: out.status.code().unwrap_or(-1),
        stderr: stderr_text(&out.stderr),
        files,
    }
}

fn run_engine(p: &Program, vfs: &mut dyn Vfs) -> (Observed, Vec<u8>) {
    let args: Vec<String> = p.args.iter().map(|s| (*s).to_owned()).collect();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let outcome = LuaVm::new().run(Job {
        entry: "main.lua",
        args: &args,
        env: &[],
        stdin: &mut p.stdin.as_bytes(),
        stdout: &mut stdout,
        stderr: &mut stderr,
        vfs,
        clock: &SystemClock,
        limits: Limits {
            instructions: Some(100_000_000),
            memory_bytes: Some(256 << 20),
            output_bytes: Some(1 << 20),
        },
        heap_exceeded: shield_engine::no_heap_budget,
    });
    let observed = Observed {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        status: outcome.exit_status(),
        stderr: stderr_text(&stderr),
        files: BTreeMap::new(),
    };
    (observed, stderr)
}

fn run_engine_dirs(p: &Program) -> Observed {
    let out = scratch("engine");
    let mut vfs = Overlay::new(DirReader::new(program_dir(p.name)), DirWriter::new(&out));
    let (mut observed, _) = run_engine(p, &mut vfs);
    observed.files = read_tree(&out);
    let _ = fs::remove_dir_all(&out);
    observed
}

fn run_engine_memory(p: &Program) -> Observed {
    let base = MemoryFiles::new(read_tree(&program_dir(p.name)));
    let writes = MemoryWrites::new();
    let mut vfs = Overlay::new(base, writes.clone());
    let (mut observed, _) = run_engine(p, &mut vfs);
    observed.files = writes.files();
    observed
}

fn lua54_available() -> bool {
    Command::new("lua5.4")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn programs_match_lua54() {
    if !lua54_available() {
        shield_testdata::skip("lua5.4 not installed (.ci/run installs it with apt)");
        return;
    }
    for p in PROGRAMS {
        let reference = run_lua54(p);
        assert_eq!(
            reference.status, p.status,
            "lua5.4 on {}: {reference:?}",
            p.name
        );
        let dirs = run_engine_dirs(p);
        assert_eq!(dirs, reference, "{} over DirReader/DirWriter", p.name);
        let memory = run_engine_memory(p);
        assert_eq!(
            memory, reference,
            "{} over MemoryFiles/MemoryWrites",
            p.name
        );
    }
}

/// Runs without `lua5.4` too: the programs' own expectations.
#[test]
fn programs_write_expected_files() {
    let exit = run_engine_memory(&PROGRAMS[1]);
    assert_eq!(exit.status, 3);
    assert_eq!(exit.files["sum.txt"], b"5 numbers, sum 20.5\n");
    let error = run_engine_memory(&PROGRAMS[2]);
    assert_eq!(error.status, 1);
    assert!(
        error
            .stderr
            .starts_with("lua5.4: main.lua:4: value too large: 3\nstack traceback:\n"),
        "{}",
        error.stderr
    );
    assert_eq!(error.stdout, "checked\t1\nchecked\t2\n");
    let basics = run_engine_memory(&PROGRAMS[0]);
    assert_eq!(basics.status, 0);
    assert!(basics.stdout.ends_with("done\n"), "{}", basics.stdout);
    assert_eq!(basics.files.keys().collect::<Vec<_>>(), ["report.txt"]);
}
