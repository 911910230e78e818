//! test262 as INTERPRETING.md describes it, for any runner of scripts: a
//! driver (`driver.js`, CommonJS, Node's `vm` module) defines `$262`,
//! evaluates the harness files and the test as classic global scripts with
//! `vm.runInThisContext` (or imports a module test) and prints how the test
//! ended. [`Suite::run`] builds each run's files and judges what the runner
//! reports; the runner (the engine in process, or a JavaScript enclave)
//! only runs `driver.js` among those files.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Features the engine lacks (with default features off, and no host
/// agents or realms); tests using them are skipped and counted.
pub const UNSUPPORTED: &[&str] = &[
    "Temporal",
    "Float16Array",
    "Math.sumPrecise",
    "cross-realm",
    "SharedArrayBuffer",
    "Atomics",
    "Atomics.waitAsync",
    "Atomics.pause",
    "IsHTMLDDA",
    "tail-call-optimization",
    "ShadowRealm",
    "decorators",
    "source-phase-imports",
    "source-phase-imports-module-source",
    "import-defer",
    "json-parse-with-source",
    "immutable-arraybuffer",
    "Error.isError",
    "upsert",
    "canonical-tz",
    "legacy-regexp",
    "Intl.Locale-info",
    "intl-normative-optional",
];

/// The unpacked suite (`harness/`, `test/`), or `None` after a `SKIPPED`
/// line when the tarball is absent.
pub fn unpack() -> Option<PathBuf> {
    let tarball = crate::file("test262/test262-es.tar.gz")?;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test262-es");
    if !dir.join("harness/assert.js").is_file() {
        std::fs::create_dir_all(&dir).unwrap();
        let status = std::process::Command::new("tar")
            .arg("xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(&dir)
            .status()
            .expect("tar");
        assert!(status.success(), "unpacking {}", tarball.display());
    }
    Some(dir)
}

/// Every test file under `test/`, sorted, relative to the suite root.
pub fn all_tests(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                let name = p.to_string_lossy();
                if name.ends_with(".js") && !name.contains("_FIXTURE") {
                    out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&root.join("test"), root, &mut out);
    out.sort();
    out
}

/// The front matter a runner needs.
#[derive(Debug, Default)]
pub struct Meta {
    pub includes: Vec<String>,
    pub flags: Vec<String>,
    pub features: Vec<String>,
    pub negative: Option<(String, String)>,
}

/// Reads the `/*--- ... ---*/` block: `includes`, `flags`, `features` as
/// inline or block lists, and `negative`'s `phase` and `type`.
pub fn meta(source: &str) -> Meta {
    let mut m = Meta::default();
    let Some(start) = source.find("/*---") else {
        return m;
    };
    let Some(len) = source[start..].find("---*/") else {
        return m;
    };
    let yaml = &source[start + 5..start + len];
    let mut current: Option<&str> = None;
    let (mut phase, mut kind) = (String::new(), String::new());
    for line in yaml.lines() {
        let trimmed = line.trim();
        if let Some(item) = trimmed.strip_prefix("- ") {
            let list = match current {
                Some("includes") => &mut m.includes,
                Some("flags") => &mut m.flags,
                Some("features") => &mut m.features,
                _ => continue,
            };
            list.push(item.trim().to_owned());
            continue;
        }
        if !line.starts_with(' ') && !line.starts_with('\t') {
            current = None;
        }
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "includes" | "flags" | "features" if line.starts_with(key) => {
                current = Some(match key {
                    "includes" => "includes",
                    "flags" => "flags",
                    _ => "features",
                });
                if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
                    let list = match key {
                        "includes" => &mut m.includes,
                        "flags" => &mut m.flags,
                        _ => &mut m.features,
                    };
                    list.extend(
                        inner
                            .split(',')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty()),
                    );
                }
            }
            "negative" if line.starts_with(key) => current = Some("negative"),
            "phase" if current == Some("negative") => phase = value.to_owned(),
            "type" if current == Some("negative") => kind = value.to_owned(),
            _ => {}
        }
    }
    if !phase.is_empty() {
        m.negative = Some((phase, kind));
    }
    m
}

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    /// Uses a feature in [`UNSUPPORTED`] or needs a blocking agent.
    Skip,
}

const DRIVER: &str = r#"'use strict';
const vm = require('vm');
const fs = require('fs');
const report = (e) => {
  let name = 'Error';
  try { name = e && e.constructor && e.constructor.name || typeof e; } catch (_) {}
  let msg = '';
  try { msg = String(e && e.message); } catch (_) {}
  print('Test262:Error:' + name + ':' + msg.split('\n')[0]);
};
globalThis.$262 = {
  global: globalThis,
  gc() {},
  evalScript: (src) => vm.runInThisContext(src, 'evalScript.js'),
  detachArrayBuffer: (buf) => { buf.transfer(); return null; },
  createRealm() { throw new Error('no realms'); },
  agent: {},
};
const files = JSON.parse(fs.readFileSync('files.json', 'utf8'));
try {
  for (const f of files.harness) vm.runInThisContext(fs.readFileSync(f, 'utf8'), f);
  if (files.module) {
    import('./' + files.test).then(() => print('Test262:Done'), report);
  } else {
    vm.runInThisContext(fs.readFileSync(files.test, 'utf8'), files.test);
    print('Test262:Done');
  }
} catch (e) {
  report(e);
}
"#;

/// The entry every run starts from.
pub const ENTRY: &str = "driver.js";

/// The limits a runner gives each run: no test needs more than this many
/// instructions or bytes of output.
pub const INSTRUCTIONS: u64 = 200_000_000;
/// See [`INSTRUCTIONS`].
pub const OUTPUT_BYTES: u64 = 1 << 20;

/// One run's files, by path relative to the script root.
pub type Files = BTreeMap<String, Vec<u8>>;

/// What a runner reports of one run of [`ENTRY`].
#[derive(Debug, Default)]
pub struct Ran {
    /// The script's exit status (any value but 0 fails a positive test).
    pub status: i32,
    /// Everything the script printed.
    pub stdout: Vec<u8>,
}

/// Harness files by name, read once.
#[derive(Debug)]
pub struct Suite {
    root: PathBuf,
    harness: HashMap<String, Vec<u8>>,
}

impl Suite {
    /// The suite unpacked at `root` (see [`unpack`]).
    pub fn new(root: PathBuf) -> Self {
        Suite {
            root,
            harness: HashMap::new(),
        }
    }

    fn harness(&mut self, name: &str) -> Vec<u8> {
        let root = &self.root;
        self.harness
            .entry(name.to_owned())
            .or_insert_with(|| std::fs::read(root.join("harness").join(name)).unwrap_or_default())
            .clone()
    }

    /// Runs the test at `rel` (as [`all_tests`] names it) in every mode its
    /// flags ask for, each through `runner` (given the run's files, by path
    /// relative to the script root); passes only when every mode passes.
    pub fn run(&mut self, rel: &str, runner: &mut dyn FnMut(&Files) -> Ran) -> Verdict {
        let Ok(source) = std::fs::read_to_string(self.root.join(rel)) else {
            return Verdict::Fail;
        };
        let m = meta(&source);
        if m.features.iter().any(|f| UNSUPPORTED.contains(&f.as_str()))
            || m.flags.iter().any(|f| f == "CanBlockIsTrue")
        {
            return Verdict::Skip;
        }
        let flag = |f: &str| m.flags.iter().any(|x| x == f);
        let module = flag("module");
        let modes: &[bool] = if module || flag("raw") || flag("noStrict") {
            &[false]
        } else if flag("onlyStrict") {
            &[true]
        } else {
            &[false, true]
        };
        for &strict in modes {
            let files = self.files(rel, &source, &m, strict, module);
            if !passed(&m, &runner(&files)) {
                return Verdict::Fail;
            }
        }
        Verdict::Pass
    }

    /// The files of one run: the driver, its manifest, the harness files
    /// the test includes, the test (strict mode by a prologue; a module
    /// test as `.mjs`) and any fixtures beside it.
    fn files(&mut self, rel: &str, source: &str, m: &Meta, strict: bool, module: bool) -> Files {
        let raw = m.flags.iter().any(|f| f == "raw");
        let is_async = m.flags.iter().any(|f| f == "async");
        let mut files = BTreeMap::new();
        let mut harness = Vec::new();
        if !raw {
            let mut names = vec!["assert.js".to_owned(), "sta.js".to_owned()];
            if is_async {
                names.push("doneprintHandle.js".to_owned());
            }
            names.extend(m.includes.iter().cloned());
            for name in names {
                let path = format!("harness/{name}");
                files.insert(path.clone(), self.harness(&name));
                harness.push(path);
            }
        }
        let test_name = if module {
            rel.trim_end_matches(".js").to_owned() + ".mjs"
        } else {
            rel.to_owned()
        };
        let body = if strict {
            format!("'use strict';\n{source}")
        } else {
            source.to_owned()
        };
        files.insert(test_name.clone(), body.into_bytes());
        if source.contains("import") {
            // Module and dynamic-import tests import fixtures beside them.
            let dir = self.root.join(rel);
            let dir = dir.parent().unwrap();
            if let Ok(entries) = std::fs::read_dir(dir) {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.contains("_FIXTURE") {
                        let rel_dir = Path::new(rel).parent().unwrap().to_string_lossy();
                        files.insert(
                            format!("{rel_dir}/{name}"),
                            std::fs::read(e.path()).unwrap_or_default(),
                        );
                    }
                }
            }
        }
        let manifest = format!(
            "{{\"harness\":[{}],\"test\":{:?},\"module\":{module}}}",
            harness
                .iter()
                .map(|h| format!("{h:?}"))
                .collect::<Vec<_>>()
                .join(","),
            test_name
        );
        files.insert("files.json".to_owned(), manifest.into_bytes());
        files.insert(ENTRY.to_owned(), DRIVER.as_bytes().to_vec());
        files
    }
}

/// Whether one mode's run passed: a negative test must fail with the error
/// type it names; any other must finish (and an async one report
/// completion) without an error.
fn passed(m: &Meta, ran: &Ran) -> bool {
    let out = String::from_utf8_lossy(&ran.stdout);
    let error = out
        .lines()
        .find_map(|l| l.strip_prefix("Test262:Error:"))
        .map(|e| e.split(':').next().unwrap_or("").to_owned());
    let is_async = m.flags.iter().any(|f| f == "async");
    match &m.negative {
        Some((_, kind)) => error.as_deref() == Some(kind.as_str()),
        None => {
            ran.status == 0
                && error.is_none()
                && out.contains("Test262:Done")
                && (!is_async || out.contains("Test262:AsyncTestComplete"))
                && !out.contains("Test262:AsyncTestFailure")
        }
    }
}

/// Verdicts counted per [`group`], and the unsupported features of the
/// skipped tests.
#[derive(Debug, Default)]
pub struct Tally {
    /// Per group: passed, failed, skipped.
    pub groups: BTreeMap<String, [usize; 3]>,
    /// Per unsupported feature: the skipped tests using it.
    pub skipped_features: BTreeMap<String, usize>,
}

impl Tally {
    /// Counts `verdict` for the test at `rel` under `root`.
    pub fn record(&mut self, root: &Path, rel: &str, verdict: Verdict) {
        let g = self.groups.entry(group(rel)).or_default();
        match verdict {
            Verdict::Pass => g[0] += 1,
            Verdict::Fail => g[1] += 1,
            Verdict::Skip => {
                g[2] += 1;
                let source = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
                for f in meta(&source).features {
                    if UNSUPPORTED.contains(&f.as_str()) {
                        *self.skipped_features.entry(f).or_default() += 1;
                    }
                }
            }
        }
    }

    /// Passed, failed and skipped over every group.
    pub fn totals(&self) -> [usize; 3] {
        self.groups
            .values()
            .fold([0; 3], |t, g| [t[0] + g[0], t[1] + g[1], t[2] + g[2]])
    }

    /// The pass rate of the tests not skipped.
    pub fn pass_rate(&self) -> f64 {
        let [p, f, _] = self.totals();
        p as f64 / (p + f).max(1) as f64
    }

    /// CONFORMANCE.md: `how` (the command and where the tests ran) over
    /// `scope` (which tests), a table per group and the skipped features.
    pub fn markdown(&self, how: &str, scope: &str) -> String {
        let mut md = format!(
            "# test262 conformance of shield-lang-js\n\n\
             Generated by {how} over {scope}, from\n\
             `shared/testdata/test262/test262-es.tar.gz` (test262 be13516f). A test passes\n\
             when it passes in every mode its flags ask for (non-strict and strict by default).\n\
             Rates are of the tests not skipped.\n\n\
             | directory | passed | failed | skipped | pass rate |\n|---|---|---|---|---|\n",
        );
        for (g, [p, f, s]) in &self.groups {
            let rate = 100.0 * *p as f64 / (p + f).max(1) as f64;
            let _ = writeln!(md, "| {g} | {p} | {f} | {s} | {rate:.1}% |");
        }
        let [p, f, s] = self.totals();
        let _ = writeln!(
            md,
            "| **all** | {p} | {f} | {s} | **{:.2}%** |\n\n## Skipped features (tests using each)\n",
            100.0 * self.pass_rate()
        );
        for (f, n) in &self.skipped_features {
            let _ = writeln!(md, "- `{f}`: {n}");
        }
        md
    }
}

/// The top-level group of a test: `language/expressions`, `built-ins/Array`...
pub fn group(rel: &str) -> String {
    let parts: Vec<&str> = rel.split('/').collect();
    parts.get(1..3).map(|p| p.join("/")).unwrap_or_default()
}

/// Tests in the CI sample.
pub const SAMPLE: usize = 2_000;
/// The CI sample's seed: change it only together with the sample test's
/// recorded pass rate.
pub const SEED: u64 = 0x5348_4945_4c44;

/// A fixed sample of `n` tests: a seeded shuffle of `tests`, first `n`.
pub fn sample(tests: &[String], n: usize, seed: u64) -> Vec<String> {
    let mut v = tests.to_vec();
    let mut x = seed | 1;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
    v.truncate(n);
    v.sort();
    v
}
