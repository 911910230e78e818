const buf = new ArrayBuffer(8);
const u8 = new Uint8Array(buf), dv = new DataView(buf);
dv.setUint32(0, 0xdeadbeef); dv.setFloat32(4, 1.5, true);
console.log(Array.from(u8).join(','), dv.getUint16(0).toString(16), dv.getFloat32(4, true));
const f64 = Float64Array.from([1.5, 2.5, -0]); console.log(f64.length, f64.byteLength, f64[2]);
const i16 = new Int16Array([40000, -40000]); console.log(i16[0], i16[1]);
const clamped = new Uint8ClampedArray([300, -5, 1.5]); console.log(clamped.join());
const sub = u8.subarray(1, 3); sub[0] = 7; console.log(u8[1], sub.length);
console.log(new Uint8Array([3, 1, 2]).sort().join(), new Int32Array(3).fill(-1).join(), Uint8Array.BYTES_PER_ELEMENT);
