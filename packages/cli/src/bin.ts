#!/usr/bin/env node
import { processIo, run } from './program';
import { programName } from './version';

run(process.argv.slice(2), processIo, programName(process.argv[1])).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`tether: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
