import fs from 'fs';
import { readFileSync, existsSync } from 'node:fs';
import path from 'path';
console.log(readFileSync('notes.txt', 'utf8').split('\n').length, existsSync('notes.txt'), fs === fs.default || typeof fs.readFileSync);
console.log(path.basename('/a/b/c.txt', '.txt'), path.dirname('a/b/c'));
