#!/usr/bin/env node
// The `berth` command: `berth daemon` runs the engine; every other subcommand is the client.
// Each side is loaded only when used: the client never pays for (or breaks on) the daemon's modules.
const [sub, ...rest] = process.argv.slice(2);
const run =
  sub === 'daemon'
    ? import('./daemon.js').then((m) => m.runDaemon(rest))
    : import('./client/main.js').then((m) => m.runClient(process.argv.slice(2)));
run.then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`berth: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
