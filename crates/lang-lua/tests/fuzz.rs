//! Fuzz smoke test: random and mutated sources through the compiler and the
//! VM under small limits. Every input must end in an `Outcome` (no panic, no
//! hang beyond the limits).

mod common;

use shield_engine::{Limits, Outcome};

const SEEDS: &[&str] = &[
    "local t = {} for i = 1, 10 do t[i] = i * 2 end print(#t, t[5])",
    "local function f(n) if n < 2 then return n end return f(n-1) + f(n-2) end print(f(15))",
    "local s = string.rep('ab', 10) print(s:gsub('a', '%0%0'), s:find('b+'), ('%d'):format(3))",
    "local co = coroutine.wrap(function(a) while true do a = coroutine.yield(a + 1) end end) print(co(1), co(2))",
    "local mt = {__index = function(t, k) return k end} print(setmetatable({}, mt).x, pcall(error, 'e'))",
    "goto a ::a:: local x <const> = 1 repeat x = x until true while false do end print(x // 1, x % 2, 2 ^ 3)",
    "print(string.pack('i4s1', 7, 'ab'):byte(1, -1)) print(utf8.char(228, 8364), table.concat({1, 2}, ','))",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    " ",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "=",
    "==",
    "..",
    "...",
    "#",
    "-",
    "+",
    "*",
    "/",
    "//",
    "%",
    "^",
    "~",
    "<<",
    "local ",
    "function ",
    "end ",
    "return ",
    "if ",
    "then ",
    "else ",
    "for ",
    "do ",
    "while ",
    "repeat ",
    "until ",
    "goto ",
    "::",
    "nil",
    "true",
    "1",
    "0",
    "1e308",
    "-0x7fffffffffffffff",
    "'s'",
    "\"\\z",
    "[[",
    "]]",
    "--",
    "x",
    "t",
    "f",
    ",",
    ";",
    ":",
    ".",
    "coroutine.yield()",
    "error()",
    "pcall(",
    "setmetatable(t,t)",
    "<close>",
    "<const>",
    "string.rep('x', 1e9)",
    "load",
    "select('#',",
    "\\u{",
    "\\x",
    "0x",
    "1//0",
    "1%0",
];

fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut s = src.to_vec();
    for _ in 0..1 + rng.below(4) {
        let pos = rng.below(s.len() + 1);
        match rng.below(4) {
            0 if !s.is_empty() => {
                let end = (pos + rng.below(8)).min(s.len());
                s.drain(pos.min(s.len())..end);
            }
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                s.splice(pos..pos, t.bytes());
            }
            2 if !s.is_empty() => {
                let p = pos.min(s.len() - 1);
                s[p] = (rng.next() & 0xff) as u8;
            }
            _ => {
                let other = SEEDS[rng.below(SEEDS.len())].as_bytes();
                let a = rng.below(other.len());
                let b = (a + rng.below(40)).min(other.len());
                s.splice(pos..pos, other[a..b].iter().copied());
            }
        }
    }
    s
}

#[test]
fn fuzz_smoke() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let limits = Limits {
        instructions: Some(200_000),
        memory_bytes: Some(16 << 20),
        output_bytes: Some(64 << 10),
    };
    let mut counts = [0usize; 3];
    for i in 0..400 {
        let src: Vec<u8> = if i % 3 == 1 {
            // Mostly valid programs: two seeds joined, digits changed.
            let mut s = SEEDS[rng.below(SEEDS.len())].as_bytes().to_vec();
            s.push(b'\n');
            s.extend_from_slice(SEEDS[rng.below(SEEDS.len())].as_bytes());
            for _ in 0..rng.below(4) {
                let p = rng.below(s.len());
                if s[p].is_ascii_digit() {
                    s[p] = b'0' + (rng.next() % 10) as u8;
                }
            }
            s
        } else if i % 5 == 0 {
            (0..rng.below(200))
                .map(|_| TOKENS[rng.below(TOKENS.len())].bytes().collect::<Vec<u8>>())
                .collect::<Vec<_>>()
                .concat()
        } else {
            let seed = SEEDS[rng.below(SEEDS.len())].as_bytes();
            mutate(&mut rng, seed)
        };
        let r = common::run_mem(&src, limits);
        let Some((outcome, _, _)) = r else {
            panic!("VM panicked on input: {:?}", String::from_utf8_lossy(&src));
        };
        match outcome {
            Outcome::Exited(_) => counts[0] += 1,
            Outcome::Error(_) => counts[1] += 1,
            Outcome::Limit { .. } => counts[2] += 1,
        }
    }
    println!(
        "fuzz: {} exited, {} errors, {} limits",
        counts[0], counts[1], counts[2]
    );
}

/// Binary chunks: valid dumps round-trip; every truncation, byte change,
/// inserted byte and absurd length field of a dump is a load error or a
/// function, never a panic, a hang or an allocation the chunk asks for.
#[test]
fn fuzz_binary_chunks() {
    let src = r#"
math.randomseed(42)
local up = 5
local fs = {
  function () return 1 end,
  function (a, b) return a + b * up end,
  load("local t = {} for i = 1, 3 do t[i] = function () return i end end return t"),
  function (...) local s = 0 for _, v in ipairs{...} do s = s + v end return s end,
}
local dumps = {}
for _, f in ipairs(fs) do
  dumps[#dumps + 1] = string.dump(f)
  dumps[#dumps + 1] = string.dump(f, true)
end
-- Valid dumps load and run.
assert(load(dumps[1], "d", "b")() == 1)
-- A loaded function's first upvalue is the environment, as in C Lua.
assert(not pcall(load(dumps[3], "d", "b"), 2, 3))
assert(load(dumps[8], "d", "b")(1, 2, 3) == 6)
local loaded, failed = 0, 0
local function try(s)
  local f = load(s, "fuzz", "b")
  if f then loaded = loaded + 1 else failed = failed + 1 end
end
for _, d in ipairs(dumps) do
  for i = 0, #d - 1 do try(d:sub(1, i)) end
  for _ = 1, 300 do
    local i = math.random(#d)
    local s = d:sub(1, i - 1) .. string.char(math.random(0, 255)) .. d:sub(i + 1)
    try(s)
    try(d:sub(1, i) .. string.char(math.random(0, 255)) .. d:sub(i + 1))
  end
  -- Every 8-byte window set to an absurd length.
  for i = 1, #d - 7 do
    try(d:sub(1, i - 1) .. string.pack("<j", -1) .. d:sub(i + 8))
    try(d:sub(1, i - 1) .. string.pack("<j", 1 << 40) .. d:sub(i + 8))
  end
end
print(loaded, failed)
"#;
    let limits = Limits {
        instructions: Some(500_000_000),
        memory_bytes: Some(256 << 20),
        output_bytes: Some(64 << 10),
    };
    let r = common::run_mem(src.as_bytes(), limits);
    let Some((outcome, out, err)) = r else {
        panic!("VM panicked loading a mutated binary chunk");
    };
    assert_eq!(
        outcome,
        Outcome::Exited(0),
        "{}",
        String::from_utf8_lossy(&err)
    );
    println!("binary chunks: {}", String::from_utf8_lossy(&out));
}
