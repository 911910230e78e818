// The script's world, built once per run from the engine's natives (`sh`).
// Everything lives inside this function: no top-level bindings leak, and
// the glue's own lookups are local (Boa is slow on global `var` lookups).
(function (sh) {
  'use strict';
  const G = globalThis;
  const define = (obj, name, value) =>
    Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
  const ObjectKeys = Object.keys;
  const ArrayIsArray = Array.isArray;
  const getProto = Object.getPrototypeOf;
  const fnToString = Function.prototype.toString;

  // Files compiled as CommonJS modules (their paths as stacks show them).
  const cjsFiles = new Set();
  // Node's `stack` starts with the error's "Name: message" line; Boa's
  // lists the frames only. The prelude's own frames are left out.
  const stackDesc = Object.getOwnPropertyDescriptor(Error.prototype, 'stack');
  if (stackDesc && stackDesc.get) {
    const getStack = stackDesc.get;
    Object.defineProperty(Error.prototype, 'stack', {
      configurable: true,
      enumerable: false,
      get() {
        const frames = getStack.call(this);
        if (typeof frames !== 'string') return frames;
        const kept = frames.split('\n').filter((l) => l && !l.includes('shield:prelude') && !l.includes('shield:call') && !l.includes('(native)'));
        // A CommonJS file's first line is compiled behind the module
        // wrapper's text: its columns there are shifted by its length.
        for (let i = 0; i < kept.length; i++) {
          const m = /^(.*\()(.*):1:(\d+)\)$/.exec(kept[i]);
          if (m && cjsFiles.has(m[2])) kept[i] = m[1] + m[2] + ':1:' + Math.max(1, m[3] - sh.wrapperPrefix) + ')';
        }
        let head;
        try { head = String(this); } catch (_) { head = 'Error'; }
        return kept.length ? head + '\n' + kept.join('\n') : head;
      },
      set: stackDesc.set,
    });
  }

  // ── Built-ins that recurse natively into nested data ─────────────────────
  // Boa's JSON.stringify and Array.prototype.flat recurse on the native
  // stack with no limit; here every level meets the engine's stack check
  // (a RangeError, as in Node), through a replacer and in chunks of levels.
  const apply = Reflect.apply;
  const stackCheck = sh.stackCheck;
  const jsonStep = sh.jsonStep;
  const nativeStringify = JSON.stringify;
  const MapCtor = Map;
  const mapGet = Map.prototype.get;
  const mapSet = Map.prototype.set;
  const isBoxed = (v) => v instanceof Number || v instanceof String || v instanceof Boolean || (typeof BigInt === 'function' && v instanceof BigInt);
  define(JSON, 'stringify', {
    stringify(value, replacer, space) {
      stackCheck();
      let step = jsonStep;
      if (typeof replacer === 'function') {
        step = function (key, v) { stackCheck(); return apply(replacer, this, [key, v]); };
      } else if (ArrayIsArray(replacer)) {
        // A list of keys: each object is serialized through a copy with
        // those keys in that order (the same copy for the same object, so
        // cycles are still found).
        const keys = [];
        const n = replacer.length;
        for (let i = 0; i < n; i++) {
          const v = replacer[i];
          let item;
          if (typeof v === 'string') item = v;
          else if (typeof v === 'number' || v instanceof Number || v instanceof String) item = String(v);
          if (item !== undefined && !keys.includes(item)) keys.push(item);
        }
        const copies = new MapCtor();
        // An ordinary object lists index keys first: a copy that must keep
        // them in the list's order reports its keys itself.
        const ordered = keys.some((k) => /^(0|[1-9][0-9]*)$/.test(k) && +k < 4294967295)
          ? { ownKeys: () => keys.slice() } : null;
        step = function (key, v) {
          stackCheck();
          if (v === null || typeof v !== 'object' || ArrayIsArray(v) || isBoxed(v)) return v;
          let copy = apply(mapGet, copies, [v]);
          if (copy === undefined) {
            copy = { __proto__: null };
            for (const k of keys) copy[k] = v[k];
            if (ordered) copy = new NativeProxy(copy, ordered);
            apply(mapSet, copies, [v, copy]);
          }
          return copy;
        };
      }
      return apply(nativeStringify, JSON, [value, step, space]);
    },
  }.stringify);
  const nativeFlat = Array.prototype.flat;
  const FLAT_CHUNK = 32;
  const arraySome = Array.prototype.some;
  define(Array.prototype, 'flat', {
    flat() {
      const depth = arguments[0];
      stackCheck();
      let d = depth === undefined ? 1 : Math.trunc(Number(depth)) || 0;
      if (!(d > FLAT_CHUNK)) return apply(nativeFlat, this, [d]);
      let out = apply(nativeFlat, this, [FLAT_CHUNK]);
      d -= FLAT_CHUNK;
      while (d > 0 && apply(arraySome, out, [ArrayIsArray])) {
        out = apply(nativeFlat, out, [Math.min(d, FLAT_CHUNK)]);
        d -= FLAT_CHUNK;
      }
      return out;
    },
  }.flat);

  // ── Proxy chains ─────────────────────────────────────────────────────────
  // A proxy without traps forwards each operation to its target on the
  // native stack: a chain of 20,000 overflowed it. Every proxy is made
  // here, so its chain's length is known; past MAX_PROXY_CHAIN, a
  // RangeError. The constructor is a bound function, as a built-in
  // constructor has no `prototype`.
  const NativeProxy = Proxy;
  const proxyChains = new WeakMap();
  const weakGet = WeakMap.prototype.get;
  const weakSet = WeakMap.prototype.set;
  const MAX_PROXY_CHAIN = 1000;
  const chainOf = (target) => {
    const n = (typeof target === 'object' || typeof target === 'function') && target !== null
      ? (apply(weakGet, proxyChains, [target]) || 0) + 1 : 1;
    if (n > MAX_PROXY_CHAIN) throw new RangeError('Maximum call stack size exceeded');
    return n;
  };
  const ProxyCtor = function Proxy(target, handler) {
    if (new.target === undefined) throw new TypeError("Constructor Proxy requires 'new'");
    const n = chainOf(target);
    const p = new NativeProxy(target, handler);
    apply(weakSet, proxyChains, [p, n]);
    return p;
  }.bind();
  Object.defineProperty(ProxyCtor, 'name', { value: 'Proxy', configurable: true });
  define(ProxyCtor, 'revocable', {
    revocable(target, handler) {
      const n = chainOf(target);
      const r = NativeProxy.revocable(target, handler);
      apply(weakSet, proxyChains, [r.proxy, n]);
      return r;
    },
  }.revocable);
  define(G, 'Proxy', ProxyCtor);

  // ── util.inspect, the subset console.log needs ──────────────────────────
  const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
  const quote = (s) => {
    let q = "'";
    if (s.includes("'")) q = !s.includes('"') ? '"' : !s.includes('`') ? '`' : "'";
    let out = q;
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      const code = s.charCodeAt(i);
      if (c === q || c === '\\') out += '\\' + c;
      else if (c === '\n') out += '\\n';
      else if (c === '\t') out += '\\t';
      else if (c === '\r') out += '\\r';
      else if (c === '\b') out += '\\b';
      else if (c === '\f') out += '\\f';
      else if (c === '\v') out += '\\v';
      else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).toUpperCase().padStart(2, '0');
      else out += c;
    }
    return out + q;
  };
  const keyText = (k) =>
    typeof k === 'symbol' ? '[' + k.toString() + ']' : IDENT.test(k) ? k : quote(k);
  const numText = (n) => (Object.is(n, -0) ? '-0' : String(n));
  const isError = (v) => v instanceof Error;
  const ctorName = (v) => {
    let p = v;
    while (p) {
      const d = Object.getOwnPropertyDescriptor(p, 'constructor');
      if (d && typeof d.value === 'function' && d.value.name) return d.value.name;
      p = getProto(p);
    }
    return null;
  };
  const fnText = (f) => {
    let src = '';
    try { src = fnToString.call(f); } catch (_) { src = ''; }
    const protoDesc = Object.getOwnPropertyDescriptor(f, 'prototype');
    const isClass = src.startsWith('class') || (protoDesc && protoDesc.writable === false && !/^(async\s*)?function\s*\*/.test(src));
    if (isClass) return '[class ' + (f.name || '(anonymous)') + ']';
    const kind = src.startsWith('async function*') ? 'AsyncGeneratorFunction'
      : src.startsWith('async') ? 'AsyncFunction'
      : /^function\s*\*/.test(src) ? 'GeneratorFunction' : 'Function';
    return f.name ? '[' + kind + ': ' + f.name + ']' : '[' + kind + ' (anonymous)]';
  };
  const join = (start, parts, open, close, indent) => {
    if (parts.length === 0) return start + open + close;
    let total = parts.length + start.length;
    for (const p of parts) total += p.length;
    if (total + parts.length <= 72 && !parts.some((p) => p.includes('\n'))) {
      return start + open + ' ' + parts.join(', ') + ' ' + close;
    }
    const pad = '\n' + ' '.repeat(indent + 2);
    return start + open + pad + parts.join(',' + pad) + '\n' + ' '.repeat(indent) + close;
  };
  const inspect = (v, depth, seen, indent) => {
    switch (typeof v) {
      case 'string': return quote(v);
      case 'number': return numText(v);
      case 'bigint': return v + 'n';
      case 'boolean': return String(v);
      case 'undefined': return 'undefined';
      case 'symbol': return v.toString();
      case 'function': {
        const base = fnText(v);
        const keys = ObjectKeys(v);
        if (keys.length === 0) return base;
        if (depth > 2) return '[Object]';
        return join(base + ' ', keys.map((k) => keyText(k) + ': ' + inspect(v[k], depth + 1, seen, indent + 2)), '{', '}', indent);
      }
    }
    if (v === null) return 'null';
    if (seen.includes(v)) return '[Circular *1]';
    if (isError(v)) {
      const s = typeof v.stack === 'string' && v.stack ? v.stack : String(v);
      return s.includes(v.name) ? s : String(v);
    }
    if (v instanceof Date) return isNaN(v) ? 'Invalid Date' : v.toISOString();
    if (v instanceof RegExp) return String(v);
    if (v instanceof Promise) return 'Promise { <pending> }';
    if (v instanceof Boolean || v instanceof Number || v instanceof String) {
      const t = v instanceof String ? 'String' : v instanceof Number ? 'Number' : 'Boolean';
      return '[' + t + ': ' + inspect(v.valueOf(), depth, seen, indent) + ']';
    }
    const name = ctorName(v);
    if (ArrayIsArray(v)) {
      if (depth > 2) return '[Array]';
      seen.push(v);
      const parts = [];
      let holes = 0;
      const n = Math.min(v.length, 100);
      for (let i = 0; i < n; i++) {
        if (!(i in v)) { holes++; continue; }
        if (holes) { parts.push('<' + holes + ' empty item' + (holes > 1 ? 's' : '') + '>'); holes = 0; }
        parts.push(inspect(v[i], depth + 1, seen, indent + 2));
      }
      if (holes) parts.push('<' + holes + ' empty item' + (holes > 1 ? 's' : '') + '>');
      if (v.length > 100) parts.push('... ' + (v.length - 100) + ' more item' + (v.length - 100 > 1 ? 's' : ''));
      for (const k of ObjectKeys(v)) {
        if (!(String(k >>> 0) === k && (k >>> 0) < v.length)) parts.push(keyText(k) + ': ' + inspect(v[k], depth + 1, seen, indent + 2));
      }
      seen.pop();
      return join(name && name !== 'Array' ? name + '(' + v.length + ') ' : '', parts, '[', ']', indent);
    }
    if (v instanceof Map || v instanceof Set) {
      const isMap = v instanceof Map;
      const start = (isMap ? 'Map' : 'Set') + '(' + v.size + ') ';
      if (depth > 2) return '[' + (isMap ? 'Map' : 'Set') + ']';
      seen.push(v);
      const parts = [];
      for (const e of v) {
        parts.push(isMap ? inspect(e[0], depth + 1, seen, indent + 2) + ' => ' + inspect(e[1], depth + 1, seen, indent + 2)
          : inspect(e, depth + 1, seen, indent + 2));
      }
      seen.pop();
      return join(start, parts, '{', '}', indent);
    }
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const parts = [];
      for (let i = 0; i < Math.min(v.length, 100); i++) parts.push(inspect(v[i], depth + 1, seen, indent + 2));
      if (v.length > 100) parts.push('... ' + (v.length - 100) + ' more items');
      return join((name || 'TypedArray') + '(' + v.length + ') ', parts, '[', ']', indent);
    }
    if (depth > 2) return name && name !== 'Object' ? '[' + name + ']' : '[Object]';
    seen.push(v);
    const parts = [];
    for (const k of ObjectKeys(v)) {
      const d = Object.getOwnPropertyDescriptor(v, k);
      let text;
      if (d && (d.get || d.set)) text = d.get && d.set ? '[Getter/Setter]' : d.get ? '[Getter]' : '[Setter]';
      else text = inspect(v[k], depth + 1, seen, indent + 2);
      parts.push(keyText(k) + ': ' + text);
    }
    for (const s of Object.getOwnPropertySymbols(v)) {
      const d = Object.getOwnPropertyDescriptor(v, s);
      if (d && d.enumerable) parts.push(keyText(s) + ': ' + inspect(v[s], depth + 1, seen, indent + 2));
    }
    seen.pop();
    let start = '';
    const proto = getProto(v);
    if (proto === null) start = '[Object: null prototype] ';
    else if (name && name !== 'Object') start = name + ' ';
    const tag = v[Symbol.toStringTag];
    if (typeof tag === 'string' && tag && tag !== name) start = (name || 'Object') + ' [' + tag + '] ';
    return join(start, parts, '{', '}', indent);
  };
  const inspectTop = (v) => (typeof v === 'string' ? v : inspect(v, 0, [], 0));

  const format = (args) => {
    let out = '';
    let i = 0;
    if (typeof args[0] === 'string' && args.length > 1 && args[0].includes('%')) {
      const f = args[0];
      i = 1;
      let j = 0;
      while (j < f.length) {
        const c = f[j];
        if (c === '%' && j + 1 < f.length) {
          const t = f[j + 1];
          if (t === '%') { out += '%'; j += 2; continue; }
          if ('sdifjoOc'.includes(t)) {
            if (i >= args.length) { out += c + t; j += 2; continue; }
            const a = args[i++];
            if (t === 's') out += typeof a === 'string' ? a : typeof a === 'bigint' ? a + 'n' : typeof a === 'object' && a !== null ? inspect(a, 1, [], 0) : numText(a) === '-0' ? '-0' : String(a);
            else if (t === 'd' || t === 'i') {
              if (typeof a === 'bigint') out += a + 'n';
              else if (typeof a === 'symbol') out += 'NaN';
              else { const n = t === 'i' ? parseInt(a) : Number(a); out += numText(n); }
            } else if (t === 'f') out += typeof a === 'symbol' ? 'NaN' : numText(parseFloat(a));
            else if (t === 'j') { try { out += JSON.stringify(a); } catch (_) { out += '[Circular]'; } }
            else if (t === 'c') { /* CSS: ignored */ } else out += inspect(a, 0, [], 0);
            j += 2;
            continue;
          }
        }
        out += c;
        j++;
      }
      if (i < args.length) out += ' ';
    }
    const rest = [];
    for (; i < args.length; i++) rest.push(inspectTop(args[i]));
    return out + rest.join(' ');
  };

  // ── console, print, process ──────────────────────────────────────────────
  let groupIndent = '';
  const emit = (fd, args) => {
    let text = format(args);
    if (groupIndent) text = groupIndent + text.split('\n').join('\n' + groupIndent);
    sh.write(fd, text + '\n');
  };
  const counts = new Map();
  const timers = new Map();
  const console = {
    log: (...a) => emit(1, a),
    info: (...a) => emit(1, a),
    debug: (...a) => emit(1, a),
    error: (...a) => emit(2, a),
    warn: (...a) => emit(2, a),
    trace: (...a) => emit(2, ['Trace' + (a.length ? ': ' + format(a) : '')]),
    dir: (v) => emit(1, [inspect(v, 0, [], 0)]),
    assert: (cond, ...a) => { if (!cond) emit(2, ['Assertion failed' + (a.length ? ': ' + format(a) : '')]); },
    group: (...a) => { if (a.length) emit(1, a); groupIndent += '  '; },
    groupEnd: () => { groupIndent = groupIndent.slice(2); },
    count: (label = 'default') => { const n = (counts.get(label) || 0) + 1; counts.set(label, n); emit(1, [label + ': ' + n]); },
    countReset: (label = 'default') => { counts.delete(label); },
    time: (label = 'default') => { timers.set(label, sh.perfNow()); },
    timeEnd: (label = 'default') => {
      const t = timers.get(label);
      if (t !== undefined) { timers.delete(label); emit(1, [label + ': ' + (sh.perfNow() - t).toFixed(3) + 'ms']); }
    },
    timeLog: (label = 'default', ...a) => {
      const t = timers.get(label);
      if (t !== undefined) emit(1, [label + ': ' + (sh.perfNow() - t).toFixed(3) + 'ms', ...a]);
    },
    table: (v) => emit(1, [v]),
  };
  define(console, 'group', console.group);
  define(G, 'console', console);
  define(G, 'print', (...a) => sh.write(1, a.map(String).join(' ') + '\n'));

  const toBytesOrText = (data) => (ArrayBuffer.isView(data) ? data : String(data));
  const process = {
    argv: sh.argv,
    env: sh.env,
    exitCode: undefined,
    platform: 'shield',
    version: 'v20.0.0',
    versions: {},
    exit: (code) => sh.exit(code === undefined ? (process.exitCode === undefined ? 0 : process.exitCode) : code),
    stdout: { write: (data) => { sh.write(1, toBytesOrText(data)); return true; }, isTTY: false },
    stderr: { write: (data) => { sh.write(2, toBytesOrText(data)); return true; }, isTTY: false },
    nextTick: (fn, ...args) => { queueMicrotask(() => fn(...args)); },
    cwd: () => '/',
    hrtime: Object.assign((prev) => {
      const ms = sh.perfNow();
      let s = Math.floor(ms / 1000);
      let ns = Math.floor((ms % 1000) * 1e6);
      if (prev) { s -= prev[0]; ns -= prev[1]; if (ns < 0) { s--; ns += 1e9; } }
      return [s, ns];
    }, { bigint: () => BigInt(Math.floor(sh.perfNow() * 1e6)) }),
    on: () => process,
    once: () => process,
  };
  define(G, 'process', process);
  sh.setExitCodeSource(() => process.exitCode);

  // ── timers ───────────────────────────────────────────────────────────────
  class Timeout {
    constructor(id) { this._id = id; }
    ref() { return this; }
    unref() { return this; }
    hasRef() { return true; }
    [Symbol.toPrimitive]() { return this._id; }
  }
  const timerId = (t) => (t instanceof Timeout ? t._id : Number(t));
  define(G, 'setTimeout', (fn, ms, ...args) => new Timeout(sh.setTimer(fn, Number(ms) || 0, args, false)));
  define(G, 'setInterval', (fn, ms, ...args) => new Timeout(sh.setTimer(fn, Number(ms) || 0, args, true)));
  define(G, 'setImmediate', (fn, ...args) => new Timeout(sh.setTimer(fn, -1, args, false)));
  define(G, 'clearTimeout', (t) => { if (t != null) sh.clearTimer(timerId(t)); });
  define(G, 'clearInterval', (t) => { if (t != null) sh.clearTimer(timerId(t)); });
  define(G, 'clearImmediate', (t) => { if (t != null) sh.clearTimer(timerId(t)); });
  if (typeof G.queueMicrotask !== 'function') {
    define(G, 'queueMicrotask', (fn) => { Promise.resolve().then(() => fn()); });
  }
  define(G, 'performance', { now: () => sh.perfNow(), timeOrigin: sh.timeOrigin });

  // ── fs ───────────────────────────────────────────────────────────────────
  class FileBuffer extends Uint8Array {
    toString(encoding) {
      if (encoding === undefined || /^utf-?8$/i.test(encoding)) return sh.decode(this);
      if (encoding === 'hex') return Array.from(this, (b) => b.toString(16).padStart(2, '0')).join('');
      if (encoding === 'latin1' || encoding === 'binary') return String.fromCharCode(...this);
      throw new TypeError('Unknown encoding: ' + encoding);
    }
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
  }
  const encodingOf = (opts) => (typeof opts === 'string' ? opts : opts && typeof opts === 'object' ? opts.encoding : undefined);
  const fsError = (code, syscall, path) => {
    const msgs = {
      ENOENT: 'no such file or directory',
      EACCES: 'permission denied',
      EISDIR: 'illegal operation on a directory',
      ENOTDIR: 'not a directory',
      EINVAL: 'invalid argument',
      EIO: 'i/o error',
    };
    const e = new Error(code + ': ' + (msgs[code] || 'error') + ', ' + syscall + " '" + path + "'");
    e.errno = { ENOENT: -2, EACCES: -13, EISDIR: -21, ENOTDIR: -20, EINVAL: -22 }[code] || -5;
    e.code = code;
    e.syscall = syscall;
    e.path = path;
    return e;
  };
  const call = (syscall, path, f) => {
    const r = f();
    if (typeof r === 'string' && r.startsWith('\u0000E')) throw fsError(r.slice(1), syscall, String(path));
    return r;
  };
  const readFileSync = (path, opts) => {
    const enc = encodingOf(opts);
    const bytes = path === 0 || path === '/dev/stdin' ? sh.readStdin() : call('open', path, () => sh.readFile(String(path)));
    const buf = Object.setPrototypeOf(bytes, FileBuffer.prototype);
    return enc ? buf.toString(enc) : buf;
  };
  const writeFileSync = (path, data, opts) => {
    const flag = opts && typeof opts === 'object' && opts.flag;
    call('open', path, () => sh.writeFile(String(path), toBytesOrText(data), flag === 'a'));
  };
  const appendFileSync = (path, data) => { call('open', path, () => sh.writeFile(String(path), toBytesOrText(data), true)); };
  const existsSync = (path) => typeof path === 'string' && sh.stat(path) !== null;
  class Stats {
    constructor(kind, size) { this.size = size; this._kind = kind; this.mode = kind === 'd' ? 0o40755 : 0o100644; }
    isFile() { return this._kind === 'f'; }
    isDirectory() { return this._kind === 'd'; }
    isSymbolicLink() { return false; }
  }
  const statSync = (path, opts) => {
    const s = sh.stat(String(path));
    if (s === null) {
      if (opts && opts.throwIfNoEntry === false) return undefined;
      throw fsError('ENOENT', 'stat', String(path));
    }
    return new Stats(s[0], s[1]);
  };
  class Dirent {
    constructor(name, kind) { this.name = name; this._kind = kind; }
    isFile() { return this._kind === 'f'; }
    isDirectory() { return this._kind === 'd'; }
    isSymbolicLink() { return false; }
  }
  const readdirSync = (path, opts) => {
    const entries = call('scandir', path, () => sh.readdir(String(path)));
    return opts && opts.withFileTypes ? entries.map((e) => new Dirent(e[0], e[1])) : entries.map((e) => e[0]);
  };
  const mkdirSync = () => undefined;
  const promisify = (f) => (...a) => new Promise((res, rej) => { try { res(f(...a)); } catch (e) { rej(e); } });
  const callbackify = (f) => (...a) => {
    const cb = a.pop();
    let r, err = null;
    try { r = f(...a); } catch (e) { err = e; }
    queueMicrotask(() => (err ? cb(err) : cb(null, r)));
  };
  const fs = {
    readFileSync, writeFileSync, appendFileSync, existsSync, statSync, readdirSync, mkdirSync,
    readFile: callbackify(readFileSync),
    writeFile: callbackify(writeFileSync),
    appendFile: callbackify(appendFileSync),
    readdir: callbackify(readdirSync),
    stat: callbackify(statSync),
  };
  fs.promises = {
    readFile: promisify(readFileSync),
    writeFile: promisify(writeFileSync),
    appendFile: promisify(appendFileSync),
    readdir: promisify(readdirSync),
    stat: promisify(statSync),
  };

  // ── path (posix) ─────────────────────────────────────────────────────────
  const normalizePath = (p) => {
    const abs = p.startsWith('/');
    const out = [];
    for (const part of p.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') { if (out.length && out[out.length - 1] !== '..') out.pop(); else if (!abs) out.push('..'); } else out.push(part);
    }
    const s = (abs ? '/' : '') + out.join('/');
    return s || (abs ? '/' : '.');
  };
  const path = {
    sep: '/',
    delimiter: ':',
    join: (...parts) => normalizePath(parts.filter((x) => x !== '').join('/') || '.'),
    normalize: (p) => normalizePath(p) + (p.endsWith('/') && p.length > 1 ? '/' : ''),
    resolve: (...parts) => {
      let r = '';
      for (const p of parts) r = p.startsWith('/') ? p : r + '/' + p;
      return normalizePath(r.startsWith('/') ? r : '/' + r);
    },
    basename: (p, ext) => {
      const b = p.replace(/\/+$/, '');
      let base = b.slice(b.lastIndexOf('/') + 1);
      if (ext && base.endsWith(ext) && base !== ext) base = base.slice(0, -ext.length);
      return base;
    },
    dirname: (p) => {
      const b = p.replace(/\/+$/, '');
      const i = b.lastIndexOf('/');
      return i < 0 ? '.' : i === 0 ? '/' : b.slice(0, i);
    },
    extname: (p) => {
      const base = p.slice(p.lastIndexOf('/') + 1);
      const i = base.lastIndexOf('.');
      return i <= 0 ? '' : base.slice(i);
    },
    isAbsolute: (p) => p.startsWith('/'),
  };
  path.posix = path;
  const util = { inspect: (v) => inspect(v, 0, [], 0), format: (...a) => format(a), promisify };
  const vm = {
    runInThisContext: (code, opts) =>
      sh.runScript(String(code), typeof opts === 'string' ? opts : (opts && opts.filename) || 'evalmachine.<anonymous>'),
  };
  const builtins = { fs, path, util, vm };
  sh.setBuiltins(builtins);

  // ── CommonJS ─────────────────────────────────────────────────────────────
  const cache = new Map();
  const dirOf = (file) => { const i = file.lastIndexOf('/'); return i < 0 ? '' : file.slice(0, i); };
  // Calls a module's wrapper with `this` = its exports, the way Node does,
  // as a method call made by script code: `fn.call(...)` would go through
  // a built-in, and the engine polls the memory limit only in what script
  // code calls directly.
  const callAsMethod = (exports, fn, ...args) => {
    const key = Symbol('shield:module');
    const target = (typeof exports === 'object' || typeof exports === 'function') && exports !== null
      ? exports : { __proto__: null };
    target[key] = fn;
    try {
      return target[key](exports, ...args);
    } finally {
      delete target[key];
    }
  };
  const makeRequire = (from) => {
    const require = (spec) => {
      spec = String(spec);
      const bare = spec.startsWith('node:') ? spec.slice(5) : spec;
      if (Object.prototype.hasOwnProperty.call(builtins, bare)) return builtins[bare];
      const found = sh.resolve(dirOf(from), spec);
      if (found === null) {
        const e = new Error("Cannot find module '" + spec + "'\nRequire stack:\n- " + from);
        e.code = 'MODULE_NOT_FOUND';
        throw e;
      }
      const hit = cache.get(found);
      if (hit) return hit.exports;
      const module = { id: found, filename: found, loaded: false, exports: {}, children: [], paths: [] };
      cache.set(found, module);
      try {
        if (found.endsWith('.json')) {
          module.exports = JSON.parse(sh.decode(sh.readFile(found)));
        } else {
          const fn = sh.compileCommonJs(found);
          cjsFiles.add(found);
          callAsMethod(module.exports, fn, makeRequire(found), module, found, dirOf(found) || '.');
        }
      } catch (e) {
        cache.delete(found);
        throw e;
      }
      module.loaded = true;
      return module.exports;
    };
    require.cache = cache;
    require.resolve = (spec) => {
      const found = sh.resolve(dirOf(from), String(spec));
      if (found === null) throw new Error("Cannot find module '" + spec + "'");
      return found;
    };
    return require;
  };
  sh.setRequireFactory(makeRequire);
  sh.setCommonJsRunner((file, fn) => {
    cjsFiles.add(file);
    const module = { id: '.', filename: file, loaded: false, exports: {}, children: [], paths: [] };
    cache.set(file, module);
    const require = makeRequire(file);
    require.main = module;
    callAsMethod(module.exports, fn, require, module, file, dirOf(file) || '.');
    module.loaded = true;
    return module.exports;
  });
  sh.setInspector(inspectTop);
});
