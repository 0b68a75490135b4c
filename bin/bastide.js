#!/usr/bin/env node
// The `bastide` command: runs the compiled server CLI (built by `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entry = join(root, 'server', 'dist', 'main.js');
if (!existsSync(entry)) {
  console.error('Bastide is not built yet: run `npm run build` (or `npm start`, which builds first).');
  process.exit(1);
}
const { runCli } = await import(entry);
process.exitCode = await runCli(process.argv.slice(2));
