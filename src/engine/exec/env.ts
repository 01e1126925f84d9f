// An exec process' environment: moby's ReplaceOrAppendEnvValues(CreateDaemonEnvironment(tty), Env).
import type { ContainerConfig } from '../containers/model.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Replaces or appends `KEY=value` entries by key; a bare `KEY` removes the key (moby's rule). */
export function replaceOrAppendEnv(defaults: string[], overrides: string[]): string[] {
  const out = [...defaults];
  const index = new Map<string, number>();
  out.forEach((e, i) => index.set(e.split('=')[0]!, i));
  const removed = new Set<number>();
  for (const o of overrides) {
    const key = o.split('=')[0]!;
    const at = index.get(key);
    if (!o.includes('=')) {
      if (at !== undefined) removed.add(at);
      continue;
    }
    if (at !== undefined) {
      out[at] = o;
      removed.delete(at);
    } else {
      index.set(key, out.length);
      out.push(o);
    }
  }
  return out.filter((_, i) => !removed.has(i));
}

/** PATH (unless the container sets it), HOSTNAME, TERM for a TTY, then Config.Env, then the exec's -e. */
export function execEnvironment(config: Pick<ContainerConfig, 'Env' | 'Hostname'>, tty: boolean, execEnv: string[]): string[] {
  const base: string[] = [];
  if (!config.Env.some((e) => e.startsWith('PATH='))) base.push(`PATH=${DEFAULT_PATH}`);
  base.push(`HOSTNAME=${config.Hostname || ''}`);
  if (tty) base.push('TERM=xterm');
  return replaceOrAppendEnv(replaceOrAppendEnv(base, config.Env), execEnv);
}
