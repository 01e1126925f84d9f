// Docker's embedded DNS address (127.0.0.11) inside a container on a user-defined network.
//
// moby runs a resolver in every container's namespace; berth has one aardvark-dns for all
// networks (started by netavark, listening on each network's gateway) and makes 127.0.0.11:53
// reach it with NAT rules in the container's own network namespace: OUTPUT DNAT to the gateway,
// POSTROUTING SNAT to the container's address on that network (aardvark-dns answers by the
// asker's address: it must see the container's, not 127.0.0.1), and route_localnet so the
// kernel routes a loopback-sourced packet out of eth0 at all. No process stays per container,
// and the rules go with the namespace. aardvark-dns 1.4 serves UDP only: TCP is redirected too,
// so a client falling back to TCP gets a refusal at once instead of a timeout.
import { spawn } from 'node:child_process';
import { SystemError } from '../../../errors.js';

export const EMBEDDED_DNS = '127.0.0.11';

export interface DnsTarget {
  /** Where aardvark-dns listens for this network (its gateway). */
  server: string;
  /** The container's own address on that network (the source aardvark-dns sees). */
  containerIp: string;
}

/** The nat table the container's namespace gets (iptables-restore input; replaces the table). */
export function embeddedDnsRules(target: DnsTarget): string {
  const lines = ['*nat'];
  for (const proto of ['udp', 'tcp']) {
    lines.push(`-A OUTPUT -d ${EMBEDDED_DNS}/32 -p ${proto} -m ${proto} --dport 53 -j DNAT --to-destination ${target.server}:53`);
  }
  for (const proto of ['udp', 'tcp']) {
    lines.push(`-A POSTROUTING -s 127.0.0.0/8 -d ${target.server}/32 -p ${proto} -m ${proto} --dport 53 -j SNAT --to-source ${target.containerIp}`);
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

// One exec: nsenter joins the namespace, sh sets the sysctl there (/proc/sys/net is the
// writer's namespace's) and becomes iptables-restore. `all` covers interfaces connected later.
const SCRIPT = 'echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet && exec iptables-restore';

/** Makes 127.0.0.11:53 (udp and tcp) inside the netns at `netnsPath` reach `target`. Idempotent. */
export async function enableEmbeddedDns(netnsPath: string, target: DnsTarget): Promise<void> {
  const rules = embeddedDnsRules(target);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${netnsPath}`, 'sh', '-c', SCRIPT], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.on('error', (err) => reject(new SystemError(`embedded DNS: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new SystemError(`embedded DNS for ${target.containerIp}: ${stderr.trim() || `exit ${code}`}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(rules);
  });
}
