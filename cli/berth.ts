#!/usr/bin/env node
// The `berth` command: `berth daemon` runs the engine; every other subcommand is the client.
import { runDaemon } from './daemon.js';
import { runClient } from './client/main.js';

const [sub, ...rest] = process.argv.slice(2);
const run = sub === 'daemon' ? runDaemon(rest) : runClient(process.argv.slice(2));
run.then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`berth: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
