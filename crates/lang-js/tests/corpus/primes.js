function sieve(n) { const is = new Uint8Array(n + 1).fill(1); is[0] = is[1] = 0; for (let i = 2; i * i <= n; i++) if (is[i]) for (let j = i * i; j <= n; j += i) is[j] = 0; const out = []; for (let i = 0; i <= n; i++) if (is[i]) out.push(i); return out; }
const ps = sieve(10000); console.log(ps.length, ps.slice(-3).join(), ps.slice(0, 6).join());
const gcd = (a, b) => (b ? gcd(b, a % b) : a); console.log(gcd(1071, 462), gcd(17, 5));
const collatz = (n) => { let s = 0; while (n !== 1) { n = n % 2 ? 3 * n + 1 : n / 2; s++; } return s; };
let best = [0, 0]; for (let i = 1; i < 10000; i++) { const c = collatz(i); if (c > best[1]) best = [i, c]; } console.log(best.join(' '));
