// Helpers for the published-port e2e files: free random high ports, the host's own address,
// HTTP and UDP probes from the host, a static UDP echo server for busybox containers, and the
// nat table's rules for a port.
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries `fn` until it returns a truthy value (no time-based assertion: a generous bound). */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, tries = 200): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`${what}: never happened${last ? ` (last error: ${String(last)})` : ''}`);
}

function canBind(port: number, proto: 'tcp' | 'udp'): Promise<boolean> {
  return new Promise((resolve) => {
    if (proto === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind({ port, address: '0.0.0.0' }, () => s.close(() => resolve(true)));
      return;
    }
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '0.0.0.0' }, () => s.close(() => resolve(true)));
  });
}

/** Whether a host process could take the port now (TCP and UDP). */
export const hostCanBind = async (port: number, proto: 'tcp' | 'udp' = 'tcp') => canBind(port, proto);

/**
 * `count` consecutive ports in 20000-32000 (below the kernel's ephemeral range, so `-p 80`
 * picks never meet them) that no one holds, TCP nor UDP; random so parallel runs rarely meet.
 */
export async function freePorts(count = 1): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * (12000 - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = (await canBind(p, 'tcp')) && (await canBind(p, 'udp'));
    if (ok) return base;
  }
}

/** The host's address on its default route's interface (not loopback, not a bridge). */
export async function hostAddress(): Promise<string> {
  const { stdout } = await run('ip', ['-4', 'route', 'show', 'default']);
  const dev = /\bdev (\S+)/.exec(stdout)?.[1];
  const addr = (networkInterfaces()[dev ?? ''] ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address;
  if (!addr) throw new Error(`no IPv4 address on the default route's interface ${dev}`);
  return addr;
}

/** GET http://host:port/ -> the body, or the error code (ECONNREFUSED, ETIMEDOUT...). */
export function httpGet(host: string, port: number, path = '/'): Promise<{ body?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = get({ host, port, path, timeout: 3000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ body }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
  });
}

/** Polls until GET answers (the server in the container may still be starting). */
export async function httpUntil(host: string, port: number): Promise<string> {
  return until(`GET http://${host}:${port}/`, async () => (await httpGet(host, port)).body);
}

/** One datagram to host:port; the reply, or undefined when none came within a second. */
export function udpAsk(host: string, port: number, msg: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = (v: string | undefined) => {
      clearTimeout(t);
      s.close();
      resolve(v);
    };
    const t = setTimeout(() => done(undefined), 1000);
    s.on('message', (m) => done(m.toString()));
    s.on('error', () => done(undefined));
    s.send(msg, port, host);
  });
}

const UDP_ECHO_C = `
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(atoi(argv[1]));
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) return 1;
  char buf[2048];
  for (;;) {
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(s, buf + 5, sizeof buf - 5, 0, (struct sockaddr *)&from, &fl);
    if (n < 0) continue;
    memcpy(buf, "echo:", 5);
    sendto(s, buf, n + 5, 0, (struct sockaddr *)&from, fl);
  }
}
`;

/** A static UDP echo server ("echo:" + the datagram), for `docker cp` into busybox containers. */
export async function buildUdpEcho(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-udp-echo-'));
  await writeFile(join(dir, 'udp-echo.c'), UDP_ECHO_C);
  await run('gcc', ['-static', '-O1', '-o', join(dir, 'udp-echo'), join(dir, 'udp-echo.c')]);
  return join(dir, 'udp-echo');
}

/** The nat table's rules that name `port` as a destination port (netavark's DNAT). */
export async function natRulesFor(port: number): Promise<string[]> {
  const { stdout } = await run('iptables', ['-w', '-t', 'nat', '-S']);
  return stdout.split('\n').filter((l) => new RegExp(`--dport ${port}(\\D|$)`).test(l) || new RegExp(`--dport \\d+:\\d+`).test(l) && rangeHas(l, port));
}

function rangeHas(line: string, port: number): boolean {
  const m = /--dport (\d+):(\d+)/.exec(line);
  return !!m && Number(m[1]) <= port && port <= Number(m[2]);
}

/** A busybox httpd serving `text` on `port` (in the container). */
export const httpdCmd = (text: string, ports: number[] = [80]) => [
  'sh',
  '-c',
  `mkdir -p /www && echo ${text} > /www/index.html && ${ports
    .slice(0, -1)
    .map((p) => `httpd -p ${p} -h /www && `)
    .join('')}exec httpd -f -p ${ports[ports.length - 1]} -h /www`,
];
