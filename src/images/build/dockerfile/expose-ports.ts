// EXPOSE's port specs to ExposedPorts keys ('80/tcp'), as moby's dispatchExpose parses them
// (go-connections' nat.ParsePortSpecs): `80`, `80/udp`, `8000-8002`, and host forms whose
// container part is what is exposed.
import { InvalidParameterError } from '../../../errors.js';

export function exposedPortKeys(specs: readonly string[]): string[] {
  const keys: string[] = [];
  for (const raw of specs) {
    const parts = raw.split(':');
    const container = parts[parts.length - 1];
    const hostPort = parts.length >= 2 ? parts[parts.length - 2] : '';
    let [port, proto] = splitProtoPort(container);
    if (port === '') throw new InvalidParameterError(`no port specified: ${raw}<empty>`);
    proto = proto.toLowerCase();
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new InvalidParameterError(`invalid proto: ${proto}`);
    const range = portRange(port);
    if (!range) throw new InvalidParameterError(`invalid containerPort: ${port}`);
    if (hostPort !== '') {
      const h = portRange(hostPort);
      if (!h) throw new InvalidParameterError(`invalid hostPort: ${hostPort}`);
      if (range[1] - range[0] !== h[1] - h[0] && range[1] !== range[0]) {
        throw new InvalidParameterError(`invalid ranges specified for container and host Ports: ${port} and ${hostPort}`);
      }
    }
    for (let p = range[0]; p <= range[1]; p++) {
      const key = `${p}/${proto}`;
      if (!keys.includes(key)) keys.push(key);
    }
  }
  return keys;
}

function splitProtoPort(raw: string): [string, string] {
  const i = raw.indexOf('/');
  const port = i < 0 ? raw : raw.slice(0, i);
  const proto = i < 0 ? '' : raw.slice(i + 1);
  if (port === '') return ['', ''];
  return [port, proto === '' ? 'tcp' : proto];
}

function portRange(s: string): [number, number] | undefined {
  const [start, end] = s.includes('-') ? [s.slice(0, s.indexOf('-')), s.slice(s.indexOf('-') + 1)] : [s, s];
  const a = portNumber(start);
  const b = start === end ? a : portNumber(end);
  if (a === undefined || b === undefined || b < a) return undefined;
  return [a, b];
}

function portNumber(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}
