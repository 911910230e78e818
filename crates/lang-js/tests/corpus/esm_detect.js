import { double } from './helper.mjs';
console.log('detected module syntax', double(21));
