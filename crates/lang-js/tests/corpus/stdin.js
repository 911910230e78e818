const input = require('fs').readFileSync(0, 'utf8');
const nums = input.trim().split('\n').map(Number);
console.log(nums.length, nums.reduce((a, b) => a + b, 0), Math.max(...nums));
