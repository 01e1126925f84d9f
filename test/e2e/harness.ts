/**
 * End-to-end harness: a real berth daemon on temporary roots, driven by the real docker CLI and
 * by raw HTTP over its unix socket.
 *
 *   const d = await startDaemon();
 *   await d.ensureBusybox();                       // busybox:latest from the test fixtures
 *   const r = await d.docker(['run', '--rm', 'busybox', 'echo', 'hi']);
 *   const p = await d.api('GET', '/_ping');
 *   await d.cleanup();                             // in after(): removes containers, stops it
 *
 * Roots are short (/tmp/bt-XXXXXX/{s.sock,d,e}) because unix socket paths are limited to 108
 * bytes and conmon's attach socket lives inside the bundle. Every root is appended to
 * ROOTS_RECORD so that zz-leak-check can scan all of them after the suite without a daemon.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, afterEach, before } from 'node:test';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, readdir, readlink, stat, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { daemonNet, daemonNetArgs, networkLeaks } from './net-harness.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// The berth built beside this file (dist/, or another --outDir when builds run side by side).
export const BERTH_BIN = fileURLToPath(new URL('../../cli/berth.js', import.meta.url));
export const DOCKER_BIN = process.env.BERTH_TEST_DOCKER ?? (existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : 'docker');
export const ROOTS_RECORD = process.env.BERTH_TEST_ROOTS_RECORD ?? '/tmp/berth-e2e-roots.list';
const FIXTURE_CACHE = '/tmp/berth-e2e-fixtures';

export interface DaemonOptions {
  /** Extra daemon flags, e.g. ['--config-file', f]. */
  args?: string[];
  logLevel?: string;
  /** Extra environment for the daemon (test/faults arms BERTH_FAULT with it). */
  env?: NodeJS.ProcessEnv;
  /**
   * Serve CRI too: `true`, or daemon.json's `cri` block (e.g. { 'registry-mirrors': {...} }),
   * written to <base>/cri-daemon.json and passed as --config-file (unless args has its own,
   * which must then hold the block). The socket is `criSocket` (<exec-root>/cri.sock).
   */
  cri?: boolean | Record<string, unknown>;
}

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ApiResult {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Parsed body when it is JSON, else undefined. */
  json: any;
}

export interface FixturePaths {
  /** docker-archive tarball of busybox:latest (for `docker load`). */
  archive: string;
  /** The plain rootfs tar (for `docker import`). */
  rootfs: string;
  /** OCI image layout dir (pushed to the registry with skopeo). */
  ociDir: string;
  /** Image ID of the fixture image (config digest). */
  imageId: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Build the busybox fixtures once into `dir` (default: a shared cache under /tmp), or reuse the
 * paths exported by scripts/run-tests.js.
 */
export async function prepareFixtures(dir = FIXTURE_CACHE): Promise<FixturePaths> {
  const env = process.env;
  if (env.BERTH_TEST_ARCHIVE && env.BERTH_TEST_ROOTFS && env.BERTH_TEST_OCI_DIR && env.BERTH_TEST_IMAGE_ID) {
    return { archive: env.BERTH_TEST_ARCHIVE, rootfs: env.BERTH_TEST_ROOTFS, ociDir: env.BERTH_TEST_OCI_DIR, imageId: env.BERTH_TEST_IMAGE_ID };
  }
  const paths: FixturePaths = {
    archive: join(dir, 'busybox-archive.tar'),
    rootfs: join(dir, 'busybox-rootfs.tar'),
    ociDir: join(dir, 'busybox-oci'),
    imageId: '',
  };
  const idFile = join(dir, 'image-id');
  if (existsSync(idFile) && existsSync(paths.archive) && existsSync(paths.rootfs) && existsSync(join(paths.ociDir, 'index.json'))) {
    paths.imageId = (await readFile(idFile, 'utf8')).trim();
    return paths;
  }
  const { buildBusyboxRootfs } = await import('../fixtures/busybox-rootfs.js');
  const { buildDockerArchive, writeOciLayout } = await import('../fixtures/image-archive.js');
  await mkdir(dir, { recursive: true });
  const rootfs = await buildBusyboxRootfs();
  const { archive, imageId } = await buildDockerArchive(rootfs, ['busybox:latest']);
  await writeFile(paths.rootfs, rootfs);
  await writeFile(paths.archive, archive);
  await writeOciLayout(rootfs, paths.ociDir, 'busybox:latest');
  await writeFile(idFile, `${imageId}\n`);
  paths.imageId = imageId;
  return paths;
}

/** Run a command; never rejects (a spawn failure is code -1 with the error in stderr). */
export function runCommand(
  bin: string,
  args: string[],
  opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CmdResult> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined); // the command may exit before reading stdin
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout: '', stderr: String(e) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString() + (timedOut ? `\n[harness: killed after ${opts.timeoutMs ?? 60_000} ms]` : '');
      resolve({ code: code ?? (signal ? 128 : -1), stdout: Buffer.concat(out).toString(), stderr });
    });
  });
}

/** One HTTP request over a unix socket; the response is returned unread (for streams). */
export function rawRequest(
  socketPath: string,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const req = httpRequest({ socketPath, method, path, headers, timeout: opts.timeoutMs ?? 30_000 }, resolve);
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no response within ${opts.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

export async function recordRoot(base: string): Promise<void> {
  await appendFile(ROOTS_RECORD, `${base}\n`);
}

export class Daemon {
  readonly socket: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly logFile: string;
  readonly dockerConfig: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private starts = 0;
  /** The daemon's extra environment from the next start on (test/faults changes it between starts). */
  env: NodeJS.ProcessEnv;

  constructor(
    readonly base: string,
    private readonly opts: DaemonOptions = {},
  ) {
    this.socket = join(base, 's.sock');
    this.dataRoot = join(base, 'd');
    this.execRoot = join(base, 'e');
    // run-tests.js keeps daemon logs outside the roots, which the leak check deletes when clean
    const logDir = process.env.BERTH_TEST_LOG_DIR;
    this.logFile = logDir ? join(logDir, `${basename(base)}.log`) : join(base, 'daemon.log');
    this.dockerConfig = join(base, 'dc');
    this.env = { ...opts.env };
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The CRI gRPC socket when started with `cri` (the daemon's default path). */
  get criSocket(): string {
    return join(this.execRoot, 'cri.sock');
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The daemon's command line (flags as dockerd names them). */
  daemonArgs(): string[] {
    return [
      BERTH_BIN,
      'daemon',
      '-H',
      `unix://${this.socket}`,
      '--data-root',
      this.dataRoot,
      '--exec-root',
      this.execRoot,
      '--log-level',
      this.opts.logLevel ?? 'debug',
      // its own default bridge and address pool: test daemons never share a subnet or a bridge
      ...daemonNetArgs(daemonNet(this.base, readRecordedRootsSync())),
      ...(this.opts.args ?? []),
      ...this.criArgs(),
    ];
  }

  private criArgs(): string[] {
    const cri = this.opts.cri;
    if (!cri) return [];
    if (cri === true || this.opts.args?.includes('--config-file')) return ['--cri'];
    const file = join(this.base, 'cri-daemon.json');
    writeFileSync(file, JSON.stringify({ cri }));
    return ['--cri', '--config-file', file];
  }

  /** Spawn the daemon and wait until /_ping answers. */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.running) throw new Error('daemon already running');
    this.starts += 1;
    await mkdir(dirname(this.logFile), { recursive: true });
    const log = createWriteStream(this.logFile, { flags: 'a' });
    // once() rejects on 'error': a log that cannot be opened fails the start instead of hanging it
    await once(log, 'open');
    log.write(`--- harness: start #${this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, this.daemonArgs(), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        log.end(`--- harness: daemon exited code=${code} signal=${signal}\n`);
        resolve();
      });
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) {
        await this.exited;
        throw new Error(`daemon exited during start (code ${child.exitCode}, signal ${child.signalCode})\n${await this.log()}`);
      }
      try {
        const res = await rawRequest(this.socket, 'GET', '/_ping', { timeoutMs: 1000 });
        await readBody(res);
        if (res.statusCode === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    throw new Error(`daemon did not answer /_ping within ${timeoutMs} ms\n${await this.log()}`);
  }

  /** Send a signal and wait for the process to exit (SIGKILL after 15 s). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    const child = this.child!;
    child.kill(signal);
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(killer);
  }

  /** Resolves once the daemon process is gone (a fault test awaits its injected death). */
  waitExit(): Promise<void> {
    return this.exited;
  }

  async restart(): Promise<void> {
    await this.stop('SIGTERM');
    await this.start();
  }

  /** The daemon's log so far (to print when a test fails). */
  async log(): Promise<string> {
    try {
      return await readFile(this.logFile, 'utf8');
    } catch {
      return '(no log)';
    }
  }

  /** Run the real docker CLI against this daemon. */
  docker(args: string[], opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CmdResult> {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: this.dockerConfig, ...opts.env };
    delete env.DOCKER_CONTEXT;
    delete env.DOCKER_TLS_VERIFY;
    return runCommand(DOCKER_BIN, args, { ...opts, env });
  }

  /** docker, asserting exit code 0; returns trimmed stdout. */
  async dockerOk(args: string[], opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
    const r = await this.docker(args, opts);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** Raw HTTP request; the whole body is read. */
  async api(method: string, path: string, body?: unknown, opts: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<ApiResult> {
    const res = await rawRequest(this.socket, method, path, { ...opts, body });
    const text = await readBody(res);
    let json: unknown;
    if (text !== '' && /json/.test(String(res.headers['content-type'] ?? ''))) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    return { status: res.statusCode ?? 0, headers: res.headers, text, json };
  }

  /** Raw HTTP request with the response left unread (events, wait, logs follow). */
  stream(method: string, path: string, body?: unknown, opts: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<IncomingMessage> {
    return rawRequest(this.socket, method, path, { ...opts, body });
  }

  /**
   * Make busybox:latest present: `docker load` of the fixture docker-archive (the pull path
   * has its own tests; this keeps other tests independent of it).
   */
  async ensureBusybox(): Promise<FixturePaths> {
    const fx = await prepareFixtures();
    const have = await this.api('GET', '/images/busybox:latest/json');
    if (have.status === 200) return fx;
    const res = await rawRequest(this.socket, 'POST', '/images/load?quiet=1', {
      body: await readFile(fx.archive),
      headers: { 'content-type': 'application/x-tar' },
      timeoutMs: 60_000,
    });
    const text = await readBody(res);
    if (res.statusCode !== 200 || /"error"/.test(text)) throw new Error(`loading busybox fixture failed: ${res.statusCode} ${text}`);
    return fx;
  }

  /** Poll the container's inspect until pred holds (or throw after timeoutMs). */
  async waitInspect(name: string, pred: (c: any) => boolean, timeoutMs = 10_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    let last: ApiResult | undefined;
    while (Date.now() < deadline) {
      last = await this.api('GET', `/containers/${encodeURIComponent(name)}/json`);
      if (last.status === 200 && pred(last.json)) return last.json;
      await sleep(50);
    }
    throw new Error(`container ${name}: condition not met within ${timeoutMs} ms; last inspect ${last?.status} ${last?.text.slice(0, 2000)}`);
  }

  /** CRI pods (and their containers) are not in Docker's list: they go through the CRI socket. */
  private async removeCriPods(problems: string[]): Promise<void> {
    const { criClient } = await import('../fixtures/cri-client.js');
    const c = criClient(this.criSocket);
    try {
      for (const p of (await c.runtime.listPodSandbox({})).items ?? []) {
        await c.runtime.removePodSandbox({ podSandboxId: p.id }).catch((err: Error) => problems.push(`removing pod ${p.id}: ${err.message}`));
      }
    } catch (err) {
      problems.push(`listing CRI pods: ${(err as Error).message}`);
    } finally {
      c.close();
    }
  }

  /**
   * Remove every container (through the API), stop the daemon, then kill leftover conmon
   * processes of these roots as a last resort; that last step throws, since it means the
   * daemon lost track of a container.
   */
  async cleanup(): Promise<void> {
    const problems: string[] = [];
    try {
      if (!this.running) await this.start();
      if (this.opts.cri) await this.removeCriPods(problems);
      const list = await this.api('GET', '/containers/json?all=1');
      if (list.status !== 200) problems.push(`listing containers: ${list.status} ${list.text}`);
      for (const c of Array.isArray(list.json) ? list.json : []) {
        const r = await this.api('DELETE', `/containers/${c.Id}?force=1&v=1`, undefined, { timeoutMs: 60_000 });
        if (r.status !== 204 && r.status !== 404) problems.push(`removing ${c.Id}: ${r.status} ${r.text}`);
      }
    } catch (err) {
      problems.push(`cleanup through the API failed: ${(err as Error).message}`);
    }
    await this.stop('SIGTERM');
    const leftovers = await findProcesses([this.dataRoot, this.execRoot], 'conmon');
    for (const p of leftovers) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (leftovers.length > 0) problems.push(`killed leftover conmon processes: ${leftovers.map((p) => `${p.pid} ${p.args}`).join('; ')}`);
    if (problems.length > 0) throw new Error(`harness cleanup of ${this.base}:\n${problems.join('\n')}\n--- daemon log:\n${(await this.log()).slice(-20_000)}`);
  }
}

/** Create temp roots, record them for the leak check, and start a daemon there. */
export async function startDaemon(opts: DaemonOptions = {}): Promise<Daemon> {
  const base = await mkdtemp('/tmp/bt-');
  await recordRoot(base);
  const d = new Daemon(base, opts);
  await mkdir(d.dockerConfig, { recursive: true });
  try {
    await d.start();
  } catch (err) {
    await d.stop('SIGKILL');
    throw err;
  }
  return d;
}

/** Processes whose executable name is `comm` and whose command line mentions one of `needles`. */
/**
 * The usual shape of an e2e file: one daemon with busybox for the whole file, and containers
 * named through name() force-removed after each test. Call inside describe().
 */
export function daemonForFile(opts: DaemonOptions = {}): {
  daemon(): Daemon;
  name(n: string): string;
  inspect(n: string): Promise<any>;
} {
  let d: Daemon | undefined;
  let made: string[] = [];
  before(async () => {
    d = await startDaemon(opts);
    await d.ensureBusybox();
  });
  afterEach(async () => {
    for (const n of made) await d!.api('DELETE', `/containers/${n}?force=1`);
    made = [];
  });
  after(async () => {
    await d?.cleanup();
  });
  return {
    daemon: () => d!,
    name: (n) => {
      made.push(n);
      return n;
    },
    inspect: async (n) => JSON.parse(await d!.dockerOk(['inspect', n]))[0],
  };
}

export async function findProcesses(needles: string[], comm?: string): Promise<{ pid: number; args: string }[]> {
  const found: { pid: number; args: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      if (comm !== undefined && (await readFile(`/proc/${pid}/comm`, 'utf8')).trim() !== comm) continue;
      const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
      if (needles.some((n) => args.includes(n))) found.push({ pid, args });
    } catch {
      // the process went away
    }
  }
  return found;
}

export interface Leaks {
  mounts: string[];
  conmons: string[];
  cgroups: string[];
  runcState: string[];
  rows: string[];
  /** netns files, bridges, veths, iptables rules, aardvark-dns of the daemon (net-harness.ts). */
  network?: string[];
  /** A volume's _data still mounted (driver options: tmpfs, a bind of a host dir) with no container running. */
  volumeMounts?: string[];
}

export function leakCount(l: Leaks): number {
  return l.mounts.length + l.conmons.length + l.cgroups.length + l.runcState.length + l.rows.length + (l.network?.length ?? 0) + (l.volumeMounts?.length ?? 0);
}

/**
 * Container IDs owned by daemons outside `ownRoots` (the system one at /var/lib/berth, or other
 * daemons on this machine): their conmon processes name the ID with `-c` and do not mention
 * our roots.
 */
async function foreignContainerIds(ownRoots: string[]): Promise<Set<string>> {
  const ids = new Set<string>();
  try {
    for (const e of await readdir('/run/berth/runc')) ids.add(e);
  } catch {
    // no system daemon
  }
  try {
    const db = new Database('/var/lib/berth/berth.db', { readonly: true, fileMustExist: true });
    try {
      for (const row of db.prepare('SELECT id FROM containers').all() as { id: string }[]) ids.add(row.id);
    } finally {
      db.close();
    }
  } catch {
    // no system daemon state
  }
  for (const p of await findProcesses(['-c '], 'conmon')) {
    if (ownRoots.some((r) => p.args.includes(r))) continue;
    const m = / -c ([0-9a-f]{64})\b/.exec(p.args);
    if (m) ids.add(m[1]);
  }
  return ids;
}

/**
 * What is left of a daemon's containers under these roots, without asking the daemon:
 * mounts (from /proc/self/mountinfo), conmon processes whose args mention the roots, cgroup
 * dirs berth/<id> (any not owned by a daemon outside `ownRoots`: cgroups are not named after
 * roots, so run this only when no test daemon has containers), runc state dirs and rows in
 * the containers table of berth.db.
 */
export async function leakCheck(dataRoot: string, execRoot: string, ownRoots: string[] = [dataRoot, execRoot]): Promise<Leaks> {
  const roots = [dataRoot, execRoot];
  const under = (p: string) => roots.some((r) => p === r || p.startsWith(`${r}/`));
  const leaks: Leaks = { mounts: [], conmons: [], cgroups: [], runcState: [], rows: [], network: await networkLeaks(dirname(dataRoot)), volumeMounts: [] };

  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const volumesDir = join(dataRoot, 'volumes');
  for (const line of mountinfo.split('\n')) {
    const mountPoint = line.split(' ')[4];
    if (mountPoint === undefined) continue;
    const path = mountPoint.replace(/\\040/g, ' ');
    if (path.startsWith(`${volumesDir}/`)) leaks.volumeMounts!.push(mountPoint);
    else if (under(path)) leaks.mounts.push(mountPoint);
  }

  leaks.conmons = (await findProcesses(roots, 'conmon')).map((p) => `${p.pid}: ${p.args}`);

  const foreign = await foreignContainerIds(ownRoots);
  const cgroupRoots: string[] = [];
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) cgroupRoots.push('/sys/fs/cgroup');
  else {
    for (const c of await readdir('/sys/fs/cgroup')) {
      const p = join('/sys/fs/cgroup', c);
      // v1 controllers are mounted dirs; co-mounted ones (cpu,cpuacct) also appear as symlinks
      try {
        await readlink(p);
        continue;
      } catch {
        if ((await stat(p)).isDirectory()) cgroupRoots.push(p);
      }
    }
  }
  for (const root of cgroupRoots) {
    let ids: string[] = [];
    try {
      ids = await readdir(join(root, 'berth'));
    } catch {
      continue;
    }
    for (const id of ids) {
      if (/^[0-9a-f]{64}$/.test(id) && !foreign.has(id)) leaks.cgroups.push(join(root, 'berth', id));
    }
  }

  try {
    for (const e of await readdir(join(dataRoot, 'pods'))) leaks.rows.push(`pod dir ${join(dataRoot, 'pods', e)}`);
  } catch {
    // no pod ever ran
  }
  try {
    for (const e of await readdir(join(execRoot, 'runc'))) leaks.runcState.push(join(execRoot, 'runc', e));
  } catch {
    // no runc root: nothing ran or it was cleaned
  }

  const dbPath = join(dataRoot, 'berth.db');
  if (existsSync(dbPath)) {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      const hasTable = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'containers'").get();
      if (hasTable) {
        for (const row of db.prepare('SELECT id, name FROM containers').all() as { id: string; name: string }[]) leaks.rows.push(`${row.id} ${row.name}`);
      }
      // CRI pod sandboxes (src/cri/pods): a row, and a dir of pod files, per pod not removed
      if (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'pods'").get()) {
        for (const row of db.prepare('SELECT id, name_key FROM pods').all() as { id: string; name_key: string }[]) leaks.rows.push(`pod ${row.id} ${row.name_key}`);
      }
    } finally {
      db.close();
    }
  }
  return leaks;
}

function readRecordedRootsSync(): string[] {
  try {
    return readFileSync(ROOTS_RECORD, 'utf8').split('\n').filter((l) => l.trim() !== '');
  } catch {
    return [];
  }
}

/** The bases recorded by startDaemon (each holds d/ and e/). */
export async function recordedRoots(): Promise<string[]> {
  try {
    const text = await readFile(ROOTS_RECORD, 'utf8');
    return [...new Set(text.split('\n').filter((l) => l.trim() !== ''))];
  } catch {
    return [];
  }
}

/**
 * The registry serving busybox:latest: BERTH_TEST_REGISTRY from scripts/run-tests.js, or one
 * started here for a standalone run (stop() is then a real stop).
 */
export async function testRegistry(): Promise<{ host: string; stop(): Promise<void> }> {
  const fromEnv = process.env.BERTH_TEST_REGISTRY;
  if (fromEnv) return { host: fromEnv, stop: async () => undefined };
  const { startRegistry, pushImage } = await import('../fixtures/registry.js');
  const fx = await prepareFixtures();
  const reg = await startRegistry();
  try {
    await pushImage(reg.host, fx.ociDir, 'busybox:latest');
  } catch (err) {
    await reg.stop();
    throw err;
  }
  return reg;
}
