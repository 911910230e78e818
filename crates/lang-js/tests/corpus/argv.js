const args = process.argv.slice(2);
console.log(args.length, args, JSON.stringify(args));
console.log(typeof process.env, Object.keys(process.env).length >= 0, Array.isArray(process.argv));
