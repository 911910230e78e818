//! Benchmarks: each program is run by this VM (in-process) and by the
//! reference `lua5.4` (a process, so its figure includes process start,
//! about 1 ms), in one run; prints times, ratios against lua5.4 and their
//! geometric mean. (omnilua, the engine this VM replaced, had a column
//! until it left the tree; BENCHMARKS.md keeps its last figures.)
//! `cargo bench -p shield-lang-lua` (release; `SHIELD_BENCH_REPS=N` runs
//! each engine N times a program, 3 by default). Outputs are compared too.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use shield_engine::vfs::{MemoryFiles, MemoryWrites, Overlay};
use shield_engine::{Engine, Job, Limits, Outcome, SystemClock};

const PROGRAMS: &[(&str, &str)] = &[
    (
        "calls (fib 30)",
        r#"
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print(fib(30))
"#,
    ),
    (
        "loops (integer)",
        r#"
local s = 0
for i = 1, 3000 do
  for j = 1, 3000 do
    s = s + (i * j) % 7 - (i ~ j) % 3
  end
end
print(s)
"#,
    ),
    (
        "float math (mandelbrot)",
        r#"
local n, iter, count = 250, 50, 0
for y = 0, n - 1 do
  local ci = 2.0 * y / n - 1.0
  for x = 0, n - 1 do
    local cr = 2.0 * x / n - 1.5
    local zr, zi, i = 0.0, 0.0, 0
    while i < iter and zr * zr + zi * zi < 4.0 do
      zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
      i = i + 1
    end
    if i == iter then count = count + 1 end
  end
end
print(count)
"#,
    ),
    (
        "table-heavy (fannkuch 9)",
        r#"
local function fannkuch(n)
  local perm, perm1, count = {}, {}, {}
  local maxflips, checksum, r, nperm = 0, 0, n, 0
  for i = 0, n - 1 do perm1[i] = i end
  while true do
    while r ~= 1 do count[r - 1] = r; r = r - 1 end
    for i = 0, n - 1 do perm[i] = perm1[i] end
    local flips = 0
    local k = perm[0]
    while k ~= 0 do
      local i, j = 0, k
      while i < j do perm[i], perm[j] = perm[j], perm[i]; i = i + 1; j = j - 1 end
      flips = flips + 1
      k = perm[0]
    end
    if flips > maxflips then maxflips = flips end
    checksum = checksum + (nperm % 2 == 0 and flips or -flips)
    while true do
      if r == n then return checksum, maxflips end
      local p0 = perm1[0]
      for i = 0, r - 1 do perm1[i] = perm1[i + 1] end
      perm1[r] = p0
      count[r] = count[r] - 1
      if count[r] > 0 then break end
      r = r + 1
    end
    nperm = nperm + 1
  end
end
print(fannkuch(9))
"#,
    ),
    (
        "hash tables (words)",
        r#"
local t, keys = {}, {}
for i = 1, 200000 do keys[i] = "k" .. (i % 5000) end
for round = 1, 5 do
  for i = 1, #keys do local k = keys[i]; t[k] = (t[k] or 0) + round end
end
local s = 0
for k, v in pairs(t) do s = s + v end
print(s)
"#,
    ),
    (
        "string-heavy (build, gsub, gmatch)",
        r#"
local parts = {}
for i = 1, 60000 do parts[#parts + 1] = string.format("%d:%s", i, ("x"):rep(i % 7)) end
local s = table.concat(parts, ",")
local n = 0
for w in s:gmatch("%d+") do n = n + #w end
local r, c = s:gsub("x+", function(m) return #m end)
local acc = ""
for i = 1, 3000 do acc = acc .. (i % 10) end
print(n, c, #r, #acc, s:find("5999:", 1, true))
"#,
    ),
    (
        "closures/OOP (__index methods)",
        r#"
local Point = {}
Point.__index = Point
function Point.new(x, y) return setmetatable({x = x, y = y}, Point) end
function Point:add(o) return Point.new(self.x + o.x, self.y + o.y) end
function Point:len2() return self.x * self.x + self.y * self.y end
local function counter() local c = 0 return function(d) c = c + d return c end end
local acc, cnt = Point.new(0, 0), counter()
for i = 1, 1000000 do
  acc = acc:add(Point.new(1, 2))
  cnt(acc:len2() % 3)
end
print(acc.x, acc.y, cnt(0))
"#,
    ),
    (
        "sort with comparator",
        r#"
local t = {}
local seed = 42
for i = 1, 200000 do seed = (seed * 1103515245 + 12345) % 2147483648; t[i] = seed end
table.sort(t, function(a, b) return a > b end)
local ok = true
for i = 2, #t do if t[i - 1] < t[i] then ok = false end end
print(ok, t[1], t[#t])
"#,
    ),
    (
        "coroutines (generator)",
        r#"
local function gen(n)
  return coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end)
end
local s = 0
for v in gen(500000) do s = s + v end
local co = coroutine.create(function(a) while true do a = coroutine.yield(a * 2) end end)
for i = 1, 200000 do local _, v = coroutine.resume(co, i); s = s + v end
print(s)
"#,
    ),
    (
        "binary trees (depth 15)",
        r#"
local function make(d) if d == 0 then return {} end d = d - 1 return {make(d), make(d)} end
local function check(t) if t[1] then return 1 + check(t[1]) + check(t[2]) end return 1 end
local total = 0
for d = 4, 15, 2 do
  local iters = 2 ^ (15 - d + 4)
  for _ = 1, iters do total = total + check(make(d)) end
end
print(total)
"#,
    ),
];

fn run_engine(engine: &dyn Engine, src: &str) -> (Duration, Vec<u8>) {
    let mut files = BTreeMap::new();
    files.insert("main.lua".to_owned(), src.as_bytes().to_vec());
    let mut vfs = Overlay::new(MemoryFiles::new(files), MemoryWrites::new());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let start = Instant::now();
    let o = engine.run(Job {
        entry: "main.lua",
        args: &[],
        env: &[],
        stdin: &mut std::io::empty(),
        stdout: &mut out,
        stderr: &mut err,
        vfs: &mut vfs,
        clock: &SystemClock,
        limits: Limits::default(),
        heap_exceeded: shield_engine::no_heap_budget,
    });
    let t = start.elapsed();
    if o != Outcome::Exited(0) {
        out.extend_from_slice(format!("[{o:?}] ").as_bytes());
        out.extend_from_slice(&err);
    }
    (t, out)
}

fn run_lua(dir: &std::path::Path, src: &str) -> Option<(Duration, Vec<u8>)> {
    let f = dir.join("bench.lua");
    std::fs::write(&f, src).ok()?;
    let start = Instant::now();
    let o = std::process::Command::new("lua5.4").arg(&f).output().ok()?;
    Some((start.elapsed(), o.stdout))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // Repetitions of each engine on each program (median taken); more
    // steady on a loaded machine with `SHIELD_BENCH_REPS=7`.
    let reps = std::env::var("SHIELD_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3);
    let dir = std::env::temp_dir().join(format!("shield-lang-lua-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let have_lua = run_lua(&dir, "print(1)").is_some();
    if !have_lua {
        println!("SKIPPED: lua5.4 not installed; ratios against it not measured");
    }
    let ours = shield_lang_lua::LuaVm::new();
    println!(
        "{:<36} {:>9} {:>9} {:>8}",
        "program", "ours ms", "lua ms", "ours/lua"
    );
    let (mut lg_ours, mut n) = (0.0f64, 0);
    for (name, src) in PROGRAMS {
        let mut t_ours = Vec::new();
        let mut t_lua = Vec::new();
        let mut outs = (Vec::new(), Vec::new());
        for _ in 0..reps {
            let (t, o) = run_engine(&ours, src);
            t_ours.push(t);
            outs.0 = o;
            if let Some((t, o)) = run_lua(&dir, src) {
                t_lua.push(t);
                outs.1 = o;
            }
        }
        let a = median(t_ours);
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        if t_lua.is_empty() {
            println!("{:<36} {:>9.1}", name, ms(a));
            continue;
        }
        let c = median(t_lua);
        let ra = ms(a) / ms(c);
        lg_ours += ra.ln();
        n += 1;
        let same = if outs.0 == outs.1 {
            ""
        } else {
            "  OUTPUT DIFFERS"
        };
        println!(
            "{:<36} {:>9.1} {:>9.1} {:>8.2}{}",
            name,
            ms(a),
            ms(c),
            ra,
            same
        );
        if !same.is_empty() {
            println!(
                "    ours: {:?}\n    lua:  {:?}",
                String::from_utf8_lossy(&outs.0),
                String::from_utf8_lossy(&outs.1)
            );
        }
    }
    if n > 0 {
        println!(
            "geometric mean over {n} programs: ours/lua5.4 {:.2}",
            (lg_ours / n as f64).exp()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
