// The CRI front end's settings: `berth daemon --cri` and daemon.json's `cri` block. Pure data, so
// the daemon can read them without loading anything of src/cri when CRI is off.
import { isAbsolute, join } from 'node:path';
import { goJsonType } from '../go-json.js';

export interface CriConfig {
  enabled: boolean;
  /** The gRPC socket's path (daemon.json may say unix:///path or /path). */
  socket: string;
  /** Where the streaming server (exec, attach, port-forward URLs) listens. */
  streamAddress: string;
  /** 0 = a free port picked at start. */
  streamPort: number;
  /** The infra container's image when RunPodSandbox does not name one. */
  sandboxImage: string;
  /** Per-registry mirrors used by CRI pulls only: host -> endpoints tried in order. */
  registryMirrors: Record<string, string[]>;
  /** The CRI pod network's subnet. */
  podSubnet: string;
  /** A CRI pull that receives nothing for this long is cancelled (containerd's image_pull_progress_timeout); 0 = never. */
  imagePullProgressTimeoutMs: number;
}

export const CRI_DEFAULTS = {
  socketName: 'cri.sock',
  streamAddress: '127.0.0.1',
  streamPort: 0,
  sandboxImage: 'registry.k8s.io/pause:3.10',
  podSubnet: '10.223.0.0/16',
  imagePullProgressTimeout: '5m',
};

const KEYS = ['enabled', 'socket', 'stream-address', 'stream-port', 'sandbox-image', 'registry-mirrors', 'pod-subnet', 'image-pull-progress-timeout'];

/** Raised for a bad `cri` block; daemon-config.ts turns it into its ConfigError. */
export class CriConfigError extends Error {}

/**
 * The `cri` block of daemon.json (`raw`, undefined when absent) and the `--cri` flag (which
 * enables it whatever the file says). Messages follow dockerd's for daemon.json: Go's decoder
 * texts for wrong types, "the following directives don't match any configuration option" for
 * unknown keys.
 */
export function parseCriConfig(raw: unknown, flagEnabled: boolean, execRoot: string, configFile: string): CriConfig {
  const bad = (what: string) => new CriConfigError(`unable to configure the daemon with file ${configFile}: ${what}`);
  const unmarshal = (v: unknown, field: string, type: string) => bad(`json: cannot unmarshal ${goJsonType(v)} into Go struct field Config.cri${field ? `.${field}` : ''} of type ${type}`);
  let block: Record<string, unknown> = {};
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'object' || Array.isArray(raw)) throw unmarshal(raw, '', 'config.CriConfig');
    block = raw as Record<string, unknown>;
  }
  const unknown = Object.keys(block).filter((k) => !KEYS.includes(k));
  if (unknown.length > 0) throw bad(`the following directives don't match any configuration option: ${unknown.map((k) => `cri.${k}`).join(', ')}`);
  const str = (key: string, dflt: string): string => {
    const v = block[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'string') throw unmarshal(v, key, 'string');
    return v;
  };
  const enabledRaw = block.enabled;
  if (enabledRaw !== undefined && enabledRaw !== null && typeof enabledRaw !== 'boolean') throw unmarshal(enabledRaw, 'enabled', 'bool');
  let socket = str('socket', join(execRoot, CRI_DEFAULTS.socketName));
  if (socket.startsWith('unix://')) socket = socket.slice('unix://'.length);
  if (!isAbsolute(socket)) throw bad(`cri.socket must be an absolute path or unix:///path: ${socket}`);
  // the kernel's sun_path limit: a longer path fails at bind with a less helpful error
  if (Buffer.byteLength(socket) > 107) throw bad(`cri.socket is longer than a unix socket path may be (107 bytes): ${socket}`);
  const streamAddress = str('stream-address', CRI_DEFAULTS.streamAddress);
  if (!/^[0-9.]+$|^\[?[0-9a-fA-F:]+\]?$|^localhost$/.test(streamAddress)) throw bad(`invalid cri.stream-address: ${streamAddress}`);
  const portRaw = block['stream-port'];
  let streamPort = CRI_DEFAULTS.streamPort;
  if (portRaw !== undefined && portRaw !== null) {
    if (typeof portRaw !== 'number' || !Number.isInteger(portRaw)) throw unmarshal(portRaw, 'stream-port', 'int');
    if (portRaw < 0 || portRaw > 65535) throw bad(`invalid cri.stream-port: ${portRaw}`);
    streamPort = portRaw;
  }
  const sandboxImage = str('sandbox-image', CRI_DEFAULTS.sandboxImage);
  if (sandboxImage.trim() === '') throw bad('cri.sandbox-image must not be empty');
  const podSubnet = str('pod-subnet', CRI_DEFAULTS.podSubnet);
  if (!validCidr4(podSubnet)) throw bad(`invalid cri.pod-subnet: ${podSubnet}`);
  const progressTimeout = str('image-pull-progress-timeout', CRI_DEFAULTS.imagePullProgressTimeout);
  const imagePullProgressTimeoutMs = goDurationMs(progressTimeout);
  if (imagePullProgressTimeoutMs === undefined) throw bad(`invalid cri.image-pull-progress-timeout: time: invalid duration "${progressTimeout}"`);
  return {
    enabled: flagEnabled || enabledRaw === true,
    socket,
    streamAddress,
    streamPort,
    sandboxImage,
    registryMirrors: parseMirrors(block['registry-mirrors'], bad, unmarshal),
    podSubnet,
    imagePullProgressTimeoutMs,
  };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration for what a config says (ms, s, m, h; "1m30s"; "0"); negative is refused. */
export function goDurationMs(s: string): number | undefined {
  if (s === '0') return 0;
  const parts = [...s.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== s) return undefined;
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]], 0);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

function parseMirrors(
  v: unknown,
  bad: (what: string) => CriConfigError,
  unmarshal: (v: unknown, field: string, type: string) => CriConfigError,
): Record<string, string[]> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw unmarshal(v, 'registry-mirrors', 'map[string][]string');
  const out: Record<string, string[]> = {};
  for (const [host, list] of Object.entries(v as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9.-]+(:[0-9]+)?$/.test(host)) throw bad(`invalid registry host in cri.registry-mirrors: ${host}`);
    if (!Array.isArray(list)) throw unmarshal(list, 'registry-mirrors', '[]string');
    const endpoints: string[] = [];
    for (const e of list) {
      if (typeof e !== 'string') throw unmarshal(e, 'registry-mirrors', 'string');
      let url: URL;
      try {
        url = new URL(e);
      } catch {
        throw bad(`invalid mirror for ${host} in cri.registry-mirrors: ${e}: must be an http:// or https:// URL`);
      }
      if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash) {
        throw bad(`invalid mirror for ${host} in cri.registry-mirrors: ${e}: must be an http:// or https:// URL without credentials or query`);
      }
      endpoints.push(e.replace(/\/+$/, ''));
    }
    out[host] = endpoints;
  }
  return out;
}

function validCidr4(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
  if (!m) return false;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  return octets.every((o) => o <= 255) && prefix >= 8 && prefix <= 30;
}
