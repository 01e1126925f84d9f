// What a crash scenario is (scenarios.ts, more-scenarios.ts) and the helpers they share.
import assert from 'node:assert/strict';
import type { CmdResult, Daemon } from '../e2e/harness.js';

export interface Ctx {
  d: Daemon;
  registry: string;
  /** Records a container id for the cgroup check. */
  made(id: string): void;
}

export interface Scenario {
  point: string;
  /** The pass through the point that kills (default 1): a sweep over n lands at different depths. */
  n?: number;
  /** The test's name when one point has several scenarios (default: point[:n]). */
  label?: string;
  /** Part of the CI form (the rest run with BERTH_FAULTS=all, `npm run faults`). */
  ci: boolean;
  setup?(c: Ctx): Promise<void>;
  op(c: Ctx): Promise<CmdResult>;
  /** After the restart without the fault: the operation again (or its next step) succeeds. */
  retry(c: Ctx): Promise<void>;
}

export const LOOP = 'trap "exit 0" TERM; while true; do sleep 0.1; done';

export async function runDetached(c: Ctx, name: string, extra: string[] = [], cmd = ['sh', '-c', LOOP]): Promise<string> {
  const id = await c.d.dockerOk(['run', '-d', '--name', name, ...extra, 'busybox', ...cmd]);
  c.made(id);
  return id;
}

export async function idOf(c: Ctx, name: string): Promise<string | undefined> {
  const r = await c.d.api('GET', `/containers/${name}/json`);
  if (r.status === 200) {
    const id = (r.json as { Id: string }).Id;
    c.made(id);
    return id;
  }
  return undefined;
}

/** Whatever state the crash left `name` in, it can be removed and made again. */
export async function rmIfThere(c: Ctx, name: string): Promise<void> {
  await idOf(c, name);
  const r = await c.d.api('DELETE', `/containers/${name}?force=1&v=1`);
  assert.ok(r.status === 204 || r.status === 404, `rm ${name} after the crash: ${r.status} ${r.text}`);
}

export const build = (c: Ctx, tag: string, dockerfile: string) => c.d.docker(['build', '-t', tag, '-'], { input: dockerfile, env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });

/**
 * One scenario per n of `ns` (the 1st, 2nd... pass through the point): the first n is part of
 * the CI form when `ci` is, the deeper ones run in the full sweep only.
 */
export function sweep(ns: number[], ci: boolean, make: (n: number) => Omit<Scenario, 'n' | 'ci'>): Scenario[] {
  return ns.map((n, i) => ({ ...make(n), ...(n > 1 ? { n } : {}), ci: ci && i === 0 }));
}
