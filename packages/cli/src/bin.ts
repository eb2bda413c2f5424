#!/usr/bin/env node
import { run } from './program';

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`tether: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
