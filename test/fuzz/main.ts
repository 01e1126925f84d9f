// `npm run fuzz`: the long API fuzz run against a fresh daemon on temporary roots.
//   npm run fuzz [-- --seed N] [--count N] [--concurrency N]   (FUZZ_SEED / FUZZ_COUNT work too)
// Prints the seed first (rerun with it to replay), then the summary: requests by status, every
// 5xx, unanswered requests, raw-abuse scenarios, RSS before/after, leftovers. Exits 1 on a
// problem: the daemon died, an unexplained 5xx, an unhandled rejection, RSS over the bound, a leak.
import { leakCheck, leakCount, startDaemon } from '../e2e/harness.js';
import { dataRootResidue, removeEverything } from './residue.js';
import { formatSummary, runFuzz } from './runner.js';
import { REGRESSIONS } from './regressions.js';

/** RSS may grow this much over its baseline (V8 keeps some of what it grew; a leak grows without bound). */
export const RSS_SLACK_KIB = 96 * 1024;

function arg(name: string, env: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : process.env[env];
  return v !== undefined ? Number(v) : dflt;
}

async function main(): Promise<number> {
  const seed = arg('seed', 'FUZZ_SEED', Math.floor(Math.random() * 2 ** 31));
  const count = arg('count', 'FUZZ_COUNT', 10_000);
  const concurrency = arg('concurrency', 'FUZZ_CONCURRENCY', 4);
  console.log(`fuzz: seed ${seed}, ${count} generated requests (+${REGRESSIONS.length} regressions), concurrency ${concurrency}`);
  const d = await startDaemon({ logLevel: 'info' });
  console.log(`fuzz: daemon pid ${d.pid}, roots ${d.base}, log ${d.logFile}`);
  const problems: string[] = [];
  try {
    const s = await runFuzz(d, { seed, count, concurrency, regressions: REGRESSIONS, progress: (l) => console.log(l) });
    console.log(formatSummary(s));
    if (!s.daemonAlive) problems.push('the daemon died');
    if (s.unhandledRejections > 0) problems.push(`${s.unhandledRejections} unhandled rejections logged`);
    const unexplained = s.serverErrors.filter((e) => !e.explained);
    if (unexplained.length > 0) problems.push(`${unexplained.length} unexplained 5xx`);
    for (const a of s.abuse) if (a.problem) problems.push(`abuse ${a.name}: ${a.problem}`);
    if (s.daemonAlive && s.rssAfterKiB > s.rssBeforeKiB + RSS_SLACK_KIB) problems.push(`RSS ${s.rssAfterKiB} KiB > ${s.rssBeforeKiB} + ${RSS_SLACK_KIB} KiB`);
    if (s.daemonAlive) {
      problems.push(...(await removeEverything(d)));
      const left = await dataRootResidue(d.dataRoot);
      console.log(`data root after removing everything: ${left.length ? left.join(', ') : 'empty'}`);
      problems.push(...left.map((l) => `left in the data root: ${l}`));
    }
  } finally {
    await d.cleanup().catch((err) => problems.push(String(err).slice(0, 2000)));
  }
  const leaks = await leakCheck(d.dataRoot, d.execRoot);
  console.log(`leaks after the daemon stopped: ${leakCount(leaks) === 0 ? 'none' : JSON.stringify(leaks)}`);
  if (leakCount(leaks) > 0) problems.push('leaks');
  console.log(problems.length ? `fuzz: FAILED (seed ${seed}):\n  ${problems.join('\n  ')}` : `fuzz: passed (seed ${seed})`);
  return problems.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
