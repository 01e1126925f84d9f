/**
 * A private containerd (Debian's 1.6, with its CRI plugin) for the side-by-side CRI figures:
 * its own root, state dir, sockets and runc root under one temp dir, never /run/containerd's or
 * /var/lib/containerd's (its shim v2 still puts a hashed socket of its own under
 * /run/containerd/s, which containerd 1.6 does not let a config move). Pods get a CNI bridge
 * (Debian's containernetworking-plugins) on a subnet of their own, masqueraded as netavark's
 * are, no portmap (the bench maps no ports and portmap leaves its chains behind); images come from the bench
 * registry over plain HTTP (a hosts.toml for it). Skipped with a reason when a piece is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../test/e2e/harness.js';
import { criClient, type CriClient } from '../../test/fixtures/cri-client.js';
import { removeAllPods } from './pod-start.js';

const CNI_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];
// clear of berth's CRI pod subnet (10.223/16) and the critest rig's (10.222/16)
const SUBNET = '10.221.0.0/16';
const BRIDGE = 'bcri0';

export interface Containerd {
  socket: string;
  version: string;
  stop(): Promise<void>;
}

/** Why the containerd side cannot run here, or undefined when it can. */
export async function containerdMissing(): Promise<{ reason?: string; cniDir?: string }> {
  if ((await runCommand('sh', ['-c', 'command -v containerd'])).code !== 0) return { reason: 'containerd not installed (apt-get install containerd)' };
  const cniDir = CNI_DIRS.find((d) => existsSync(join(d, 'bridge')) && existsSync(join(d, 'host-local')) && existsSync(join(d, 'loopback')));
  if (!cniDir) return { reason: 'CNI plugins not installed (apt-get install containernetworking-plugins)' };
  return { cniDir };
}

function config(base: string, cniDir: string, sandboxImage: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    'version = 2',
    `root = "${base}/root"`,
    `state = "${base}/state"`,
    'disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]',
    '[grpc]',
    `  address = "${base}/c.sock"`,
    '[ttrpc]',
    `  address = "${base}/c.ttrpc.sock"`,
    `[${cri}]`,
    `  sandbox_image = "${sandboxImage}"`,
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    // no CAP_SYS_RESOURCE on some VMs: a negative oom_score_adj makes runc fail
    '  restrict_oom_score_adj = true',
    `  [${cri}.containerd]`,
    '    snapshotter = "overlayfs"',
    '    default_runtime_name = "runc"',
    `    [${cri}.containerd.runtimes.runc]`,
    '      runtime_type = "io.containerd.runc.v2"',
    `      [${cri}.containerd.runtimes.runc.options]`,
    `        Root = "${base}/runc"`,
    `  [${cri}.cni]`,
    `    bin_dir = "${cniDir}"`,
    `    conf_dir = "${base}/cni"`,
    `  [${cri}.registry]`,
    `    config_path = "${base}/certs.d"`,
    '',
  ].join('\n');
}

function cniConf(base: string): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'bench-cri',
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: true,
        ipMasq: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: SUBNET }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: `${base}/ipam` },
      },
    ],
  });
}

async function waitReady(socket: string, child: ChildProcess, log: () => string): Promise<{ client: CriClient; version: string }> {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`containerd exited (${child.exitCode}): ${log()}`);
    if (existsSync(socket)) {
      const client = criClient(socket);
      try {
        const v = await client.runtime.version({}, { deadline: Date.now() + 2000 });
        return { client, version: `${v.runtimeName} ${v.runtimeVersion}` };
      } catch (err) {
        last = (err as Error).message;
        client.close();
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`containerd's CRI did not answer within 30 s: ${last} ${log()}`);
}

/** Start containerd with the CRI plugin; images are pulled from `registry` (host:port, plain HTTP). */
export async function startContainerd(cniDir: string, registry: string, sandboxImage: string): Promise<Containerd> {
  const base = await mkdtemp('/tmp/bench-ctrd-');
  await mkdir(join(base, 'cni'), { recursive: true });
  await mkdir(join(base, 'certs.d', registry), { recursive: true });
  await writeFile(join(base, 'config.toml'), config(base, cniDir, sandboxImage));
  await writeFile(join(base, 'cni', '10-bench.conflist'), cniConf(base));
  await writeFile(join(base, 'certs.d', registry, 'hosts.toml'), `server = "http://${registry}"\n[host."http://${registry}"]\n  capabilities = ["pull", "resolve"]\n`);
  let log = '';
  const child = spawn('containerd', ['--config', join(base, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-4000);
  });
  const socket = join(base, 'c.sock');
  const stop = async () => {
    // pods first: their removal runs CNI DEL (veth, IP, masquerade rules) and ends the shims
    if (child.exitCode === null) {
      const c = criClient(socket);
      await removeAllPods(c).catch(() => undefined); // not answering: the kill below is all that is left
      c.close();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await runCommand('ip', ['link', 'del', BRIDGE]);
    // snapshots may still be mounted if containerd died mid-way
    await runCommand('sh', ['-c', `grep -o " ${base}/[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]);
    await rm(base, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
    const { client, version } = await waitReady(socket, child, () => log);
    client.close();
    return { socket, version, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
