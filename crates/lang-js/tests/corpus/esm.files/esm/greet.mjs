export default function greet(who) { return `hello ${who}`; }
export const VERSION = '1.0';
