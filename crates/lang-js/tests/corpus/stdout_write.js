process.stdout.write('no newline;');
process.stdout.write(' continued\n');
process.stdout.write(new Uint8Array([0x6f, 0x6b, 0x0a]));
console.error('to stderr');
console.warn('also stderr');
console.info('info goes to stdout'); console.debug('debug too');
