#!/usr/bin/env node
// Runs node's test runner over the test files of a tree (Node 20's --test does not expand globs).
// Usage: node scripts/test.mjs [--suffix .test.ts] [--concurrency N] DIR...
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
let suffix = '.test.ts';
let concurrency = '2';
const dirs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--suffix') suffix = args[++i];
  else if (args[i] === '--concurrency') concurrency = args[++i];
  else dirs.push(args[i]);
}
const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith(suffix)) files.push(p);
  }
};
for (const d of dirs.length ? dirs : ['server']) walk(d);
files.sort();
if (files.length === 0) {
  console.error(`no ${suffix} files under ${dirs.join(', ')}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], {
  stdio: 'inherit',
  env: { NODE_ENV: 'test', ...process.env },
});
process.exit(r.status ?? 1);
