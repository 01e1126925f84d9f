// NetworkBackend over netavark 1.4 (Debian 12's podman stack): one process per setup/teardown,
// the options as JSON on stdin, iptables as the firewall driver, aardvark-dns' files under the
// daemon's exec-root. Namespaces are nsfs files bind-mounted by util-linux `unshare --net=FILE`.
import { execFile, spawn } from 'node:child_process';
import { open, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureAardvark, updateAardvarkNames } from './aardvark-records.js';
import { pinBridgeMac } from './bridge-mac.js';
import { portChain } from './chains.js';
import { NetworkBackendError, type NetworkBackend } from './network-backend.js';
import type { NetavarkOptions, NetavarkSetupResult } from './types.js';

const run = promisify(execFile);

export const NETAVARK_BINARY = '/usr/lib/podman/netavark';
export const AARDVARK_BINARY = '/usr/lib/podman/aardvark-dns';
/** nsfs' magic: a namespace file is a mount of this filesystem. */
const NSFS_MAGIC = 0x6e736673;

export interface NetavarkBackendOptions {
  /** netavark's --config: aardvark-dns keeps its per-network files and pid file here. */
  configDir: string;
  netavarkBinary?: string;
  aardvarkBinary?: string;
}

export class NetavarkBackend implements NetworkBackend {
  // One netavark at a time (as podman does): a teardown deleting a bridge it left empty must not
  // interleave with a setup attaching to it. Setups go first: a container starting waits for no
  // teardown of one that exited, and finds the bridge still there (cheaper for both).
  private running = false;
  private readonly setups: (() => void)[] = [];
  private readonly teardowns: (() => void)[] = [];

  constructor(private readonly opts: NetavarkBackendOptions) {}

  async createNamespace(path: string): Promise<void> {
    // a file left by a daemon that died before recording it
    await this.removeNamespace(path);
    const fh = await open(path, 'wx', 0o600);
    await fh.close();
    try {
      await run('unshare', [`--net=${path}`, 'true']);
    } catch (err) {
      await rm(path, { force: true });
      throw new NetworkBackendError(`creating a network namespace failed: ${stderrOf(err)}`);
    }
  }

  async removeNamespace(path: string): Promise<void> {
    if (await this.namespaceExists(path)) {
      await run('umount', [path]).catch(async (err) => {
        // a second daemon (or a racing release) unmounted it first
        if (await this.namespaceExists(path)) throw new NetworkBackendError(`unmounting ${path} failed: ${stderrOf(err)}`);
      });
    }
    await rm(path, { force: true });
  }

  async namespaceExists(path: string): Promise<boolean> {
    try {
      return (await statfs(path)).type === NSFS_MAGIC;
    } catch {
      return false;
    }
  }

  setup(netnsPath: string, options: NetavarkOptions): Promise<NetavarkSetupResult> {
    return this.serial(this.setups, async () => {
      const result = JSON.parse(await this.netavark('setup', netnsPath, options)) as NetavarkSetupResult;
      for (const n of Object.values(options.network_info)) await pinBridgeMac(n.network_interface);
      return result;
    });
  }

  teardown(netnsPath: string, options: NetavarkOptions): Promise<void> {
    return this.serial(this.teardowns, async () => {
      await this.netavark('teardown', netnsPath, options);
    });
  }

  removeNetwork(netnsPath: string, options: NetavarkOptions): Promise<void> {
    return this.serial(this.teardowns, async () => {
      // netavark drops a network's port chain only when told of port mappings, and fails when
      // told of them for a chain that is not there (a network that never published a port)
      const chains = Object.keys(options.network_info).map(portChain);
      const present = await Promise.all(chains.map((c) => chainExists('nat', c)));
      const withPorts = present.length > 0 && present.every(Boolean);
      await this.netavark('teardown', netnsPath, withPorts ? { ...options, port_mappings: [] } : options);
    });
  }

  updateDnsNames(network: string, containerId: string, names: string[]): Promise<void> {
    // on the queue: netavark's teardown edits aardvark-dns' files without its lock
    return this.serial(this.setups, async () => {
      await updateAardvarkNames(join(this.opts.configDir, 'aardvark-dns'), network, containerId, names);
    });
  }

  ensureDnsServer(): Promise<boolean> {
    return this.serial(this.setups, () => ensureAardvark(join(this.opts.configDir, 'aardvark-dns'), this.opts.aardvarkBinary ?? AARDVARK_BINARY));
  }

  anchorBridge(bridge: string, anchor: string, mtu?: number): Promise<void> {
    // on the queue: a teardown must not find the bridge empty and delete it meanwhile
    return this.serial(this.setups, async () => {
      const peer = anchorPeer(anchor);
      try {
        await run('ip', ['link', 'add', anchor, ...(mtu ? ['mtu', String(mtu)] : []), 'type', 'veth', 'peer', 'name', peer]);
        await run('ip', ['link', 'set', anchor, 'master', bridge]);
      } catch (err) {
        await run('ip', ['link', 'del', anchor]).catch(() => undefined);
        throw new NetworkBackendError(`anchoring bridge ${bridge}: ${stderrOf(err)}`);
      }
    });
  }

  async removeAnchor(anchor: string): Promise<void> {
    await run('ip', ['link', 'del', anchor]).catch((err) => {
      if (!/Cannot find device|does not exist/.test(stderrOf(err))) throw new NetworkBackendError(`removing ${anchor}: ${stderrOf(err)}`);
    });
  }

  async linkNames(): Promise<string[]> {
    const { stdout } = await run('ip', ['-j', 'link', 'show']);
    return (JSON.parse(stdout) as { ifname: string }[]).map((l) => l.ifname);
  }

  private serial<T>(queue: (() => void)[], fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push(() => {
        fn()
          .then(resolve, reject)
          .finally(() => {
            this.running = false;
            this.next();
          });
      });
      this.next();
    });
  }

  private next(): void {
    if (this.running) return;
    const job = this.setups.shift() ?? this.teardowns.shift();
    if (!job) return;
    this.running = true;
    job();
  }

  private netavark(command: 'setup' | 'teardown', netnsPath: string, options: NetavarkOptions): Promise<string> {
    const args = ['--config', this.opts.configDir, '--aardvark-binary', this.opts.aardvarkBinary ?? AARDVARK_BINARY, command, netnsPath];
    return new Promise((resolve, reject) => {
      const child = spawn(this.opts.netavarkBinary ?? NETAVARK_BINARY, args, {
        // aardvark-dns is started by netavark and outlives it: it must not hold our pipes
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, NETAVARK_FW: 'iptables', RUST_LOG: 'warn' },
      });
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => errOut.push(b));
      child.on('error', (err) => reject(new NetworkBackendError(`netavark: ${err.message}`)));
      child.on('close', (code) => {
        const stdout = Buffer.concat(out).toString('utf8');
        if (code === 0) return resolve(stdout);
        reject(new NetworkBackendError(netavarkErrorText(stdout, Buffer.concat(errOut).toString('utf8'), code)));
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(JSON.stringify(options));
    });
  }
}

/** netavark prints `{"error": "..."}` on stdout when it fails. */
export function netavarkErrorText(stdout: string, stderr: string, code: number | null): string {
  try {
    const parsed = JSON.parse(stdout) as { error?: string };
    if (parsed.error) return `netavark: ${parsed.error}`;
  } catch {
    // not JSON
  }
  const lines = (stderr.trim() || stdout.trim()).split('\n').filter((l) => !/failed to connect to syslog/.test(l));
  return `netavark failed (exit ${code})${lines.length ? `: ${lines.join(' ')}` : ''}`;
}

async function chainExists(table: string, chain: string): Promise<boolean> {
  try {
    await run('iptables', ['-w', '-t', table, '-S', chain]);
    return true;
  } catch {
    return false;
  }
}

/** An anchor's peer: the same name with the second letter changed (ba... -> bp...). */
function anchorPeer(anchor: string): string {
  return `${anchor[0]}p${anchor.slice(2)}`;
}

function stderrOf(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n')[0];
}
