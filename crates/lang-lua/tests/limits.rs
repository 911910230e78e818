//! Limits a script cannot disarm: instructions, memory, output; and deep
//! recursion as a clean Lua error, never a host stack overflow.

mod common;

use shield_engine::{LimitKind, Limits, Outcome};

fn run(src: &str, limits: Limits) -> (Outcome, String) {
    let (o, out, err) = common::run_mem(src.as_bytes(), limits).expect("no panic");
    let mut s = String::from_utf8_lossy(&out).into_owned();
    s.push_str(&String::from_utf8_lossy(&err));
    (o, s)
}

fn limited(instructions: u64, memory: u64) -> Limits {
    Limits {
        instructions: Some(instructions),
        memory_bytes: Some(memory),
        output_bytes: Some(1 << 20),
    }
}

fn kind(o: &Outcome) -> Option<LimitKind> {
    match o {
        Outcome::Limit { kind, .. } => Some(*kind),
        _ => None,
    }
}

#[test]
fn instruction_budget_stops_loops_and_recursion() {
    for src in [
        "while true do end",
        "local i = 0 repeat i = i + 1 until false",
        "for i = 1, math.maxinteger do end",
        "local function f() return f() end f()",
        "local t = setmetatable({}, {__index = function(t, k) return t[k] end}) local x pcall(function() x = t.a end) while true do end",
        "debug.sethook() while true do end",
        // A script's hook runs beside the budget, never instead of it.
        "debug.sethook(function() end, 'cr') local function f() end while true do f() end",
        "debug.sethook(function() debug.sethook() end, 'r') while true do print() end",
        "debug.sethook(function() while true do end end, 'c') print()",
        "local co = coroutine.wrap(function() while true do coroutine.yield() end end) while true do co() end",
        "while true do pcall(error, 'x') end",
        // Results grow by one a level: quadratic copying the budget pays for.
        "local function f() return xpcall(f, function(m) return f() end) end f()",
    ] {
        let (o, _) = run(src, limited(2_000_000, 64 << 20));
        assert_eq!(kind(&o), Some(LimitKind::Instructions), "{src}: {o:?}");
        assert_eq!(o.exit_status(), 3);
    }
}

#[test]
fn pattern_steps_are_instructions() {
    // Polynomial backtracking inside one native call: lua5.4 spends minutes
    // on the first (its only bound is nesting depth). Each step is charged,
    // so even under `pcall` the run ends at the budget, with no Lua error.
    for src in [
        "print(string.find(('a'):rep(3000), '.-.-.-b'))",
        "print(pcall(string.gsub, ('a'):rep(3000), '.-.-.-b', ''))",
        "for w in (('a'):rep(3000) .. 'c'):gmatch('a.-a.-a.-b') do end",
        "print(pcall(string.match, ('a'):rep(3000), '(.-)(.-)(.-)b'))",
    ] {
        let (o, out) = run(src, limited(5_000_000, 64 << 20));
        assert_eq!(
            kind(&o),
            Some(LimitKind::Instructions),
            "{src}: {o:?} {out}"
        );
    }
    // Linear work over a big subject is no error, however many steps it
    // takes (a cap of 50 million steps per call used to say "pattern too
    // complex" here; lua5.4 prints nil).
    let (o, out) = run(
        "print(('ab'):rep(10000000):find('a?b?a?b?c'))",
        limited(2_000_000_000, 512 << 20),
    );
    assert_eq!((o, out.as_str()), (Outcome::Exited(0), "nil\n"));
}

#[test]
fn memory_limit_is_a_clean_end() {
    for src in [
        "local s = ('x'):rep(1e9)",
        "local t = {} for i = 1, 1e9 do t[i] = i end",
        "local t = {} local i = 0 while true do i = i + 1 t['k' .. i] = {} end",
        "local s = 'x' while true do s = s .. s end",
        "local t = {} for i = 1, 1e8 do t[#t + 1] = tostring(i) end",
        "print(string.format('%s', ('x'):rep(2^30)))",
        "local parts = {} for i = 1, 1e7 do parts[i] = 'abcdefgh' end print(#table.concat(parts))",
        "local s = string.pack('c2000000000', '')",
        "local t = {} for i = 1, 1e6 do t[i] = string.pack('s4', ('y'):rep(100) .. i) end",
        // Functions keep their chunk's text (for string.dump): it is counted.
        "local big, fs = (' '):rep(1 << 20), {} for i = 1, 1000 do fs[i] = load(big .. 'return function() return ' .. i .. ' end')() end",
        "local fs, big = {}, (' '):rep(1 << 20) for i = 1, 1000 do fs[i] = assert(load(function() local s = big big = nil return s end)) big = (' '):rep(1 << 20) .. '--' .. i end",
    ] {
        let (o, _) = run(src, limited(u64::MAX / 2, 32 << 20));
        assert_eq!(kind(&o), Some(LimitKind::Memory), "{src}: {o:?}");
        assert_eq!(o.exit_status(), 3);
    }
}

#[test]
fn garbage_is_collected_under_the_limit() {
    let src =
        "local n = 0 for i = 1, 300000 do local t = {i, tostring(i), {}} n = n + #t end print(n)";
    let (o, out) = run(src, limited(u64::MAX / 2, 16 << 20));
    assert_eq!(o, Outcome::Exited(0), "{out}");
    assert_eq!(out, "900000\n");
}

#[test]
fn collection_keeps_live_locals() {
    // Collections at closure creation and concatenation must not lose
    // locals above the written register.
    let src = "local keep = {} for i = 1, 200000 do local x local y = {i} x = function() return y end \
               local s = 'k' .. i local z = {} keep[i % 100 + 1] = y assert(y[1] == i and z and x() == y and s) end print('ok')";
    let (o, out) = run(src, limited(u64::MAX / 2, 64 << 20));
    assert_eq!(o, Outcome::Exited(0), "{out}");
    assert_eq!(out, "ok\n");
}

#[test]
fn long_chains_compile() {
    // Chains just under the nesting bound compile and run.
    let src = "local f = load('local x = ... return ' .. string.rep('x + ', 900) .. '1') \
               local t = setmetatable({}, {__index = function(t) return t end}) \
               local g = load('local a = ... return a' .. string.rep('.b', 900)) print(f(1), g(t) == t)";
    let (o, out) = run(src, limited(100_000_000, 64 << 20));
    assert_eq!(o, Outcome::Exited(0), "{out}");
    assert_eq!(out, "901\ttrue\n");
}

#[test]
fn output_limit() {
    let (o, _) = run(
        "while true do io.write(('x'):rep(1000)) end",
        Limits {
            instructions: Some(100_000_000),
            memory_bytes: Some(64 << 20),
            output_bytes: Some(10_000),
        },
    );
    assert_eq!(kind(&o), Some(LimitKind::Output), "{o:?}");
}

#[test]
fn deep_recursion_is_a_lua_error() {
    let cases = [
        "local function f(n) return 1 + f(n + 1) end print(pcall(f, 1))",
        "local t = setmetatable({}, {__index = function(t, k) return t[k .. 'x'] end}) print(pcall(function() return t.a end))",
        "local s = string.rep('(', 10000) .. '1' .. string.rep(')', 10000) print(load('return ' .. s))",
        "local s = string.rep('a = {', 5000) print(load(s))",
        "local function f() return coroutine.wrap(f)() end print(pcall(f))",
        "print(pcall(string.rep))",
        "print(load('return ' .. string.rep('x + ', 200000) .. '1'))",
        "print(load('return a' .. string.rep('.b', 200000)))",
        "print(load('return f' .. string.rep('()', 200000)))",
        "print(load('return ' .. string.rep('x .. ', 200000) .. '1'))",
        "print(load('return ' .. string.rep('not ', 200000) .. '1'))",
        "print(load('return ' .. string.rep('{', 200000)))",
        "print(pcall(string.find, string.rep('a', 100000), string.rep('a?', 100000) .. string.rep('a', 100000)))",
        // Host re-entry of every kind, at its bound, on the enclave's 8 MiB stack.
        "local m = {} m.__tostring = function(o) return tostring(setmetatable({}, m)) end print(pcall(tostring, setmetatable({}, m)))",
        "local function f(s) return (s:gsub('.', f)) end print(pcall(f, 'ab'))",
        "local function f() table.sort({3, 2, 1}, function(a, b) f() return a < b end) end print(pcall(f))",
        "local m = {} m.__lt = function(a, b) return setmetatable({}, m) < b end print(pcall(function() return setmetatable({}, m) < setmetatable({}, m) end))",
        "local m = {} m.__concat = function(a, b) return setmetatable({}, m) .. 'x' end print(pcall(function() return setmetatable({}, m) .. 'x' end))",
        "local m = {} m.__add = function(a, b) return setmetatable({}, m) + 1 end print(pcall(function() return setmetatable({}, m) + 1 end))",
        "local m = {} m.__newindex = function(t, k, v) setmetatable({}, m)[k] = v end print(pcall(function() setmetatable({}, m).x = 1 end))",
        "local m = {} m.__eq = function(a, b) return setmetatable({}, m) == setmetatable({}, m) end print(pcall(function() return setmetatable({}, m) == setmetatable({}, m) end))",
        "local m = {} m.__len = function(a) return #setmetatable({}, m) end print(pcall(function() return #setmetatable({}, m) end))",
        "local function f() local x <close> = setmetatable({}, {__close = function() f() end}) end print(pcall(f))",
        "local function f() return load(f) end print(pcall(f) and 'nil')",
        "local function f() return coroutine.resume(coroutine.create(f)) end local function g(ok, ...) if not ok then print(false) return end return g(...) end g(f())",
    ];
    for src in cases {
        let (o, out) = run(src, limited(500_000_000, 512 << 20));
        assert_eq!(o, Outcome::Exited(0), "{src}: {out}");
        assert!(
            out.starts_with("false") || out.starts_with("nil"),
            "{src}: {out}"
        );
    }
}

/// Finalizers, hooks, `__close` handlers and the new io/os paths driven by
/// a hostile script: every run ends as an outcome, under the limits.
#[test]
fn hostile_finalizers_hooks_and_closes_end_cleanly() {
    for src in [
        r#"setmetatable({}, {__gc = function() while true do end end}) collectgarbage()"#,
        r#"setmetatable({}, {__gc = function() while true do end end})"#,
        r#"setmetatable({}, {__gc = function() os.exit(7) end})"#,
        r#"for i = 1, 1e5 do setmetatable({}, {__gc = function(o) _G.keep = o; setmetatable({}, getmetatable(o)) end}) end"#,
        r#"local mt = {} mt.__gc = function(o) setmetatable({}, mt) end for i = 1, 100 do setmetatable({}, mt) end"#,
        r#"setmetatable({}, {__gc = function() error(setmetatable({}, {__tostring = function() error('x') end})) end}) warn('@on') collectgarbage()"#,
        r#"setmetatable({}, {__gc = function() coroutine.yield() end}) collectgarbage()"#,
        r#"setmetatable({}, {__gc = function() collectgarbage() collectgarbage('step') end}) collectgarbage()"#,
        r#"local t = setmetatable({}, {__mode = 'k'}) for i = 1, 1e4 do local k = {} t[k] = {k} end collectgarbage()"#,
        r#"debug.sethook(function() error('hook') end, 'l') local x = 1"#,
        r#"debug.sethook(function() debug.sethook(function() end, 'crl', 1) end, 'c') print()"#,
        r#"debug.sethook(function(e) coroutine.yield() end, 'l') local co = coroutine.wrap(function() local a = 1 end) print(pcall(co))"#,
        r#"debug.sethook(function() local t = {} for i = 1, 10 do t[i] = i end end, '', 1) for i = 1, 1000 do end"#,
        r#"local co = coroutine.wrap(function() local x <close> = setmetatable({}, {__close = coroutine.yield}) error('e') end) print(pcall(co)) print(pcall(co))"#,
        r#"local function f() local x <close> = setmetatable({}, {__close = function() error('c') end}) return f() end print(pcall(f))"#,
        r#"local function f(n) local x <close> = setmetatable({}, {__close = function() end}) if n > 0 then return f(n - 1) end end f(1e6)"#,
        r#"print(xpcall(function() local x <close> = setmetatable({}, {__close = function() error('a') end}) error('b') end, function(m) error('h') end))"#,
        r#"local t = setmetatable({}, {__close = function() end}) for i = 1, 1e6 do local x <close> = t end"#,
        r#"print(pcall(function() local x <close> = setmetatable({}, {__close = function(_, e) local y <close> = setmetatable({}, {__close = function() error(e) end}) error(1) end}) error(0) end))"#,
        r#"debug.sethook(print, 'r') debug.sethook()"#,
        r#"for i = 1, 200 do debug.getlocal(1, i) debug.getlocal(1, -i) end print(debug.getlocal(100, 1))"#,
        r#"print(pcall(debug.setlocal, 1, 300, 1)) print(debug.setlocal(1, -1, 1))"#,
        r#"local co = coroutine.create(function(...) coroutine.yield() end) coroutine.resume(co, 1, 2) print(debug.getlocal(co, 1, 1), debug.getlocal(co, 1, -1))"#,
        r#"print(debug.traceback('x', 1e9), debug.traceback(coroutine.create(print)), debug.traceback(nil, -5))"#,
        r#"io.tmpfile():write(('x'):rep(1e8))"#,
        r#"local f = io.tmpfile() for i = 1, 1e6 do f:write('abcdefgh') end"#,
        r#"local f = io.open('x.txt', 'w') f:setvbuf('full', 1e12) f:write('a') os.remove('x.txt') f:write('b') f:close()"#,
        r#"print(os.rename('nope', 'x'), os.remove('main.lua'), os.time({year = 2^40, month = 1, day = 1}))"#,
        r#"print(pcall(os.time, {year = 1e300, month = 1, day = 1}), pcall(os.time, {year = math.mininteger, month = 1, day = 1}))"#,
        r#"print(pcall(os.time, {year = 2147483647, month = 2147483647, day = 2147483647, hour = 2147483647, min = 2147483647, sec = 2147483647}))"#,
        r#"local f = io.tmpfile() f:write(('9'):rep(1000)) f:seek('set') print(f:read('n'))"#,
        r#"print(load(('a,'):rep(300) .. 'a = 1'), load('local ' .. ('a,'):rep(300) .. 'a'))"#,
        r#"print(pcall(string.rep)) print(pcall(('x').rep, {})) print(pcall(table.sort, 1)) getmetatable(io.stdout).__gc(io.stdout) print(io.stdout:write('ok\n'))"#,
    ] {
        let r = common::run_mem(src.as_bytes(), limited(5_000_000, 64 << 20));
        let (o, _, _) = r.unwrap_or_else(|| panic!("panic: {src}"));
        assert_ne!(o, Outcome::Error("panic".into()), "{src}");
    }
}
