//! The contract every script language keeps, checked once for each language
//! this `shield` carries, through the real binary: a bundle round trip
//! (arguments, bundled files, stdin, written files, stderr, exit status)
//! whose plaintext never reaches anything the host sees; the same script
//! under `shield exec` (the development enclave) and `exec --native`; and
//! hostile scripts (endless loops, memory and output bombs, unbounded
//! recursion, escapes from the bundle) that end in a result with a defined
//! status (3 for a limit), the enclave alive to seal it.
//!
//! A language comes in by adding its [`Scripts`] to [`LANGUAGES`].

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

mod common;
use common::{contains, ok, script_status, stderr, stdout};

/// One language's scripts for the contract.
struct Scripts {
    /// `--lang` name.
    lang: &'static str,
    /// The entry's file name.
    entry: &'static str,
    /// Holds SCRIPT-MARKER-6d1f (in a comment). Prints its arguments joined
    /// by one space and a newline, then the environment variables `GREETING`
    /// and `HOME` (`none` for an unset one) joined by one space and a
    /// newline, then the content of `data.txt`, then all
    /// of stdin, then `OUTPUT-MARKER-90be` and a newline; writes 3000 lines
    /// `WRITTEN-MARKER-c3a9 <i>` to `out/copy.txt`; writes
    /// `STDERR-MARKER-51aa` and a newline to stderr; exits with status 7.
    /// The markers it prints are built at run time, so they are not in its
    /// source.
    round_trip: &'static str,
    /// Throws an uncaught error whose message holds `boom`.
    throws: &'static str,
    /// Loops forever.
    forever: &'static str,
    /// Allocates without end.
    allocates: &'static str,
    /// Prints without end.
    chatters: &'static str,
    /// Calls itself without end; with the status it ends with (an error, 1,
    /// or a limit, 3) and what its report says.
    recurses: (&'static str, i32, &'static str),
    /// Tries to read `/etc/passwd` and `../outside.txt`, printing `refused`
    /// and a newline for each attempt that fails.
    escapes: &'static str,
}

const LUA: Scripts = Scripts {
    lang: "lua",
    entry: "main.lua",
    round_trip: "-- SCRIPT-MARKER-6d1f\n\
        local data = assert(io.open('data.txt')):read('a')\n\
        local input = io.read('a')\n\
        print(table.concat({...}, ' '))\n\
        print((os.getenv('GREETING') or 'none') .. ' ' .. (os.getenv('HOME') or 'none'))\n\
        io.write(data, input)\n\
        local out = assert(io.open('out/copy.txt', 'w'))\n\
        for i = 1, 3000 do out:write('WRITTEN-MARKER-' .. 'c3a9 ', i, '\\n') end\n\
        out:close()\n\
        print('OUTPUT-MARKER-' .. '90be')\n\
        io.stderr:write('STDERR-MARKER-' .. '51aa\\n')\n\
        os.exit(7)\n",
    throws: "error('boom')",
    forever: "local n = 0 while true do n = n + 1 end",
    allocates: "local t = {} local s = 'x' while true do s = s .. s t[#t + 1] = s end",
    chatters: "while true do print('and on and on') end",
    recurses: (
        "local function f(n) return 1 + f(n + 1) end f(1)",
        1,
        "stack overflow",
    ),
    escapes: "for _, p in ipairs({'/etc/passwd', '../outside.txt'}) do \
              if not io.open(p) then print('refused') end end",
};

const JS: Scripts = Scripts {
    lang: "js",
    entry: "main.js",
    round_trip: "// SCRIPT-MARKER-6d1f\n\
        const fs = require('fs');\n\
        const data = fs.readFileSync('data.txt', 'utf8');\n\
        const input = fs.readFileSync(0, 'utf8');\n\
        console.log(process.argv.slice(2).join(' '));\n\
        console.log((process.env.GREETING ?? 'none') + ' ' + (process.env.HOME ?? 'none'));\n\
        process.stdout.write(data + input);\n\
        fs.mkdirSync('out', { recursive: true });\n\
        const lines = [];\n\
        for (let i = 1; i <= 3000; i++) lines.push('WRITTEN-MARKER-' + 'c3a9 ' + i + '\\n');\n\
        fs.writeFileSync('out/copy.txt', lines.join(''));\n\
        console.log('OUTPUT-MARKER-' + '90be');\n\
        console.error('STDERR-MARKER-' + '51aa');\n\
        process.exit(7);\n",
    throws: "throw new Error('boom');",
    forever: "let n = 0; for (;;) { n++; }",
    allocates: "const t = []; let s = 'x'; for (;;) { s = s + s; t.push(s); }",
    chatters: "for (;;) console.log('and on and on');",
    recurses: (
        "function f(n) { return 1 + f(n + 1); } f(1);",
        1,
        "RangeError",
    ),
    escapes: "const fs = require('fs');\n\
              for (const p of ['/etc/passwd', '../outside.txt']) {\n\
                try { fs.readFileSync(p); } catch (e) { console.log('refused'); }\n\
              }",
};

const SQUIRREL: Scripts = Scripts {
    lang: "squirrel",
    entry: "main.nut",
    round_trip: "// SCRIPT-MARKER-6d1f\n\
        local function read_all(f) {\n\
            local text = \"\";\n\
            try { while (true) text += f.readn('c').tochar(); } catch (e) {}\n\
            return text;\n\
        }\n\
        local data = read_all(file(\"data.txt\", \"r\"));\n\
        local input = read_all(stdin);\n\
        local args = \"\";\n\
        foreach (i, a in vargv) args += (i > 0 ? \" \" : \"\") + a;\n\
        local greeting = getenv(\"GREETING\"), home = getenv(\"HOME\");\n\
        print(args + \"\\n\" + (greeting == null ? \"none\" : greeting) + \" \"\n\
            + (home == null ? \"none\" : home) + \"\\n\" + data + input);\n\
        local out = file(\"out/copy.txt\", \"w\");\n\
        for (local i = 1; i <= 3000; i++) {\n\
            foreach (c in \"WRITTEN-MARKER-\" + \"c3a9 \" + i + \"\\n\") out.writen(c, 'c');\n\
        }\n\
        out.close();\n\
        print(\"OUTPUT-MARKER-\" + \"90be\\n\");\n\
        error(\"STDERR-MARKER-\" + \"51aa\\n\");\n\
        return 7;\n",
    throws: "throw \"boom\";",
    forever: "local n = 0; while (true) n++;",
    allocates: "local t = []; local s = \"x\"; while (true) { s = s + s; t.append(s); }",
    chatters: "while (true) print(\"and on and on\\n\");",
    recurses: (
        "function f(n) { return 1 + f(n + 1); } f(1);",
        1,
        "stack overflow",
    ),
    escapes: "foreach (p in [\"/etc/passwd\", \"../outside.txt\"]) {\n\
                try { file(p, \"r\"); } catch (e) { print(\"refused\\n\"); }\n\
              }",
};

const PYTHON: Scripts = Scripts {
    lang: "python",
    entry: "main.py",
    round_trip: "# SCRIPT-MARKER-6d1f\n\
        import os, sys\n\
        data = open('data.txt').read()\n\
        stdin = sys.stdin.read()\n\
        print(' '.join(sys.argv[1:]))\n\
        print(os.environ.get('GREETING', 'none'), os.getenv('HOME', 'none'))\n\
        sys.stdout.write(data + stdin)\n\
        os.makedirs('out', exist_ok=True)\n\
        with open('out/copy.txt', 'w') as out:\n\
        \x20   for i in range(1, 3001):\n\
        \x20       out.write('WRITTEN-MARKER-' + 'c3a9 ' + str(i) + '\\n')\n\
        print('OUTPUT-MARKER-' + '90be')\n\
        print('STDERR-MARKER-' + '51aa', file=sys.stderr)\n\
        sys.exit(7)\n",
    throws: "raise ValueError('boom')",
    forever: "n = 0\nwhile True:\n    n += 1\n",
    allocates: "t = []\ns = 'x'\nwhile True:\n    s = s + s\n    t.append(s)\n",
    chatters: "while True:\n    print('and on and on')\n",
    recurses: (
        "def f(n):\n    return 1 + f(n + 1)\nf(1)\n",
        1,
        "RecursionError",
    ),
    escapes: "for p in ['/etc/passwd', '../outside.txt']:\n\
        \x20   try:\n\
        \x20       open(p).read()\n\
        \x20   except OSError:\n\
        \x20       print('refused')\n",
};

/// Every language this `shield` carries.
const LANGUAGES: &[&Scripts] = &[&LUA, &JS, &SQUIRREL, &PYTHON];

const DATA: &str = "DATA-MARKER-44e0 the confidential input\n";
const STDIN: &str = "STDIN-MARKER-7b2c\n";
/// Packed with `--env GREETING=...`: the script's environment is sealed
/// in the bundle, and the host's (`HOME`) does not reach it.
const GREETING: &str = "ENV-MARKER-2f7a";
const MARKERS: [&str; 7] = [
    "SCRIPT-MARKER-6d1f",
    GREETING,
    "DATA-MARKER-44e0",
    "STDIN-MARKER-7b2c",
    "WRITTEN-MARKER-c3a9",
    "OUTPUT-MARKER-90be",
    "STDERR-MARKER-51aa",
];

/// The host's `GREETING` for every `shield` these tests run: development
/// mode passes it on, a bundle run must not.
const HOST_GREETING: &str = "host-greeting";

/// What the round-trip script prints in a bundle run given `a b`.
fn round_trip_stdout() -> String {
    format!("a b\n{GREETING} none\n{DATA}{STDIN}OUTPUT-MARKER-90be\n")
}

/// What it prints in development mode (the host's environment).
fn dev_stdout() -> String {
    let home = std::env::var("HOME").unwrap_or_else(|_| "none".to_owned());
    format!("a b\n{HOST_GREETING} {home}\n{DATA}{STDIN}OUTPUT-MARKER-90be\n")
}

/// The owner and, per language, the enclave's attested key and a policy
/// pinning its MRENCLAVE (making a key launches an enclave; once each).
struct Fixture {
    root: PathBuf,
    state: PathBuf,
    owner: PathBuf,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("contract")
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let root = root();
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let f = Fixture {
            state: root.join("host-state"),
            owner: root.join("owner"),
            root,
        };
        ok(&shield(&f.root, &["keygen", "-o", "owner"], None));
        for language in LANGUAGES {
            let key = format!("ak-{}.json", language.lang);
            let made = shield(
                &f.root,
                &["enclave-key", "--lang", language.lang, "-o", &key],
                None,
            );
            ok(&made);
            let mrenclave = stdout(&made)
                .lines()
                .find_map(|l| l.strip_prefix("enclave MRENCLAVE ").map(str::to_owned))
                .unwrap_or_else(|| panic!("no MRENCLAVE in:\n{}", stdout(&made)));
            std::fs::write(
                f.root.join(format!("policy-{}.toml", language.lang)),
                format!("mrenclave = [\"{mrenclave}\"]\nallow_simulation = true\n"),
            )
            .unwrap();
        }
        f
    })
}

/// Runs `shield args` in `dir` with the fixture's state directory.
fn shield(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shield"))
        .args(args)
        .current_dir(dir)
        .env("SHIELD_STATE_DIR", root().join("host-state"))
        .env("GREETING", HOST_GREETING)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running shield");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.unwrap_or_default().as_bytes().to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = input.write_all(&data);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

/// A directory `name` for `language` holding its entry (`script`) and
/// `data.txt`.
fn project(language: &Scripts, name: &str, script: &str) -> PathBuf {
    let dir = fixture().root.join(language.lang).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(language.entry), script).unwrap();
    std::fs::write(dir.join("data.txt"), DATA).unwrap();
    dir
}

/// Packs `dir`'s entry and data for `language`'s enclave, with `extra` flags.
fn pack(language: &Scripts, dir: &Path, extra: &[&str]) {
    let f = fixture();
    let key = f.root.join(format!("ak-{}.json", language.lang));
    let policy = f.root.join(format!("policy-{}.toml", language.lang));
    let mut args = vec![
        "pack",
        language.entry,
        "data.txt",
        "--to",
        key.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        "--owner",
        f.owner.to_str().unwrap(),
        "-o",
        "app.shield",
    ];
    args.extend_from_slice(extra);
    ok(&shield(dir, &args, None));
}

/// `shield open` of dir/app.result as the fixture's owner.
fn open(dir: &Path, extra: &[&str]) -> Output {
    let owner = fixture().owner.to_str().unwrap().to_owned();
    let mut args = vec!["open", "app.result", "--owner", &owner];
    args.extend_from_slice(extra);
    shield(dir, &args, None)
}

#[test]
fn every_language_round_trips_and_the_host_never_sees_plaintext() {
    for language in LANGUAGES {
        let lang = language.lang;
        let dir = project(language, "round-trip", language.round_trip);
        std::fs::write(dir.join("input.txt"), STDIN).unwrap();
        let env = format!("GREETING={GREETING}");
        pack(language, &dir, &["--stdin", "input.txt", "--env", &env]);
        ok(&shield(
            &dir,
            &[
                "run",
                "app.shield",
                "-o",
                "app.result",
                "--trace",
                "host.trace",
                "--",
                "a",
                "b",
            ],
            None,
        ));
        let trace = std::fs::read(dir.join("host.trace")).unwrap();
        // The written file (about 75 KB) went out as protected-file nodes.
        assert!(
            trace.len() > 75_000,
            "{lang}: trace of {} bytes",
            trace.len()
        );
        let mut host_visible = vec![
            ("trace", trace),
            ("bundle", std::fs::read(dir.join("app.shield")).unwrap()),
            ("result", std::fs::read(dir.join("app.result")).unwrap()),
        ];
        let mut pending = vec![fixture().state.clone()];
        while let Some(path) = pending.pop() {
            if path.is_dir() {
                pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else if !path.ends_with("enclave") {
                host_visible.push(("state", std::fs::read(&path).unwrap()));
            }
        }
        for marker in MARKERS {
            for (what, bytes) in &host_visible {
                assert!(
                    !contains(bytes, marker.as_bytes()),
                    "{lang}: {marker} in the {what}"
                );
            }
        }
        // The owner sees everything.
        let opened = open(&dir, &["--extract", "out"]);
        assert_eq!(opened.status.code(), Some(4), "{lang}: {}", stderr(&opened));
        assert_eq!(script_status(&opened), 7, "{lang}");
        assert_eq!(stdout(&opened), round_trip_stdout(), "{lang}");
        assert!(stderr(&opened).contains("STDERR-MARKER-51aa\n"), "{lang}");
        let written = std::fs::read_to_string(dir.join("out/out/copy.txt")).unwrap();
        assert_eq!(written.lines().count(), 3000, "{lang}");
        assert_eq!(written.lines().last(), Some("WRITTEN-MARKER-c3a9 3000"));
    }
}

#[test]
fn every_language_runs_alike_in_exec_and_natively() {
    for language in LANGUAGES {
        let lang = language.lang;
        let dir = project(language, "exec", language.round_trip);
        for native in [false, true] {
            let mut args = vec!["exec", language.entry, "--", "a", "b"];
            if native {
                args.insert(1, "--native");
            }
            let out = shield(&dir, &args, Some(STDIN));
            assert_eq!(
                out.status.code(),
                Some(7),
                "{lang} {args:?}: {}",
                stderr(&out)
            );
            assert_eq!(stdout(&out), dev_stdout(), "{lang} {args:?}");
            assert_eq!(stderr(&out), "STDERR-MARKER-51aa\n", "{lang} {args:?}");
        }
        // Writes go to a scratch area, not the host's directory.
        assert!(!dir.join("out").exists(), "{lang}");
    }
}

#[test]
fn every_language_ends_hostile_scripts_in_a_result_with_a_defined_status() {
    let mut failures = Vec::new();
    for language in LANGUAGES {
        let lang = language.lang;
        let (recurses, recursion_status, recursion_says) = language.recurses;
        let cases: [(&str, &str, &[&str], i32, &str); 7] = [
            ("throws", language.throws, &[], 1, "boom"),
            (
                "forever",
                language.forever,
                &["--max-instructions", "20000000"],
                3,
                "instruction limit",
            ),
            (
                "allocates",
                language.allocates,
                &["--max-memory", "64M"],
                3,
                "memory limit",
            ),
            (
                "chatters",
                language.chatters,
                &["--max-output", "1M"],
                3,
                "output limit",
            ),
            ("recurses", recurses, &[], recursion_status, recursion_says),
            ("escapes", language.escapes, &[], 0, "refused\nrefused\n"),
            ("exits", "", &[], 0, ""),
        ];
        for (name, script, flags, status, says) in cases {
            let dir = project(language, name, script);
            std::fs::write(dir.parent().unwrap().join("outside.txt"), "outside").unwrap();
            pack(language, &dir, flags);
            // The host stays up, and the enclave writes a result.
            let ran = shield(&dir, &["run", "app.shield", "-o", "app.result"], None);
            if !ran.status.success() {
                failures.push(format!("{lang} {name}: no result: {}", stderr(&ran)));
                continue;
            }
            let opened = open(&dir, &[]);
            let text = format!("{}{}", stdout(&opened), stderr(&opened));
            let code = if status == 0 { 0 } else { 4 };
            let status_line = text.lines().last().unwrap_or_default();
            if opened.status.code() != Some(code)
                || status_line != format!("script exit status: {status}")
                || !text.contains(says)
                || opened.stdout.len() > 1 << 20
            {
                failures.push(format!(
                    "{lang} {name}: expected status {status} and {says:?}:\n{text}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_language_comes_from_the_extension_or_lang() {
    for language in LANGUAGES {
        let lang = language.lang;
        let dir = project(language, "no-extension", language.round_trip);
        std::fs::rename(dir.join(language.entry), dir.join("script")).unwrap();
        let unknown = shield(&dir, &["exec", "--native", "script"], None);
        assert_eq!(unknown.status.code(), Some(2), "{lang}");
        assert!(stderr(&unknown).contains("--lang"), "{}", stderr(&unknown));
        let told = shield(
            &dir,
            &["exec", "--native", "--lang", lang, "script", "--", "a", "b"],
            Some(STDIN),
        );
        assert_eq!(told.status.code(), Some(7), "{lang}: {}", stderr(&told));
        assert_eq!(stdout(&told), dev_stdout(), "{lang}");
    }
}
