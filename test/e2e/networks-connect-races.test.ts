// network connect racing rm -f of the container and rm of the network (issue 11): the fuzz long
// run once left the endpoint row of a removed container on a removed network: a connect that
// waited for the container's lock while rm -f held it saved its row after the removal had
// deleted the container's. Each round fires the three at once; afterwards no endpoint row names
// a removed container or a removed network, in the API and in SQLite.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { daemonForFile, type ApiResult } from './harness.js';

const ROUNDS = 24;

describe('network connect racing removals', () => {
  const f = daemonForFile();
  const d = () => f.daemon();

  const expectOneOf = (what: string, r: ApiResult, allowed: Record<number, RegExp | null>) => {
    assert.ok(r.status in allowed, `${what}: unexpected ${r.status} ${r.text}`);
    const re = allowed[r.status];
    if (re) assert.match(String(r.json?.message), re, `${what}: ${r.status} ${r.text}`);
  };

  const endpointRows = (): { container_id: string; network_id: string }[] => {
    const db = new Database(join(d().dataRoot, 'berth.db'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT container_id, network_id FROM endpoints').all() as { container_id: string; network_id: string }[];
    } finally {
      db.close();
    }
  };

  test('connect, rm -f and network rm at once leave no endpoint behind', { timeout: 300_000 }, async (t) => {
    const removedContainers = new Set<string>();
    const removedNetworks = new Set<string>();
    const seen = new Map<string, number>();
    for (let i = 0; i < ROUNDS; i++) {
      const net = await d().api('POST', '/networks/create', { Name: `ncr-net-${i}` });
      assert.equal(net.status, 201, net.text);
      const netId = net.json.Id as string;
      const running = i % 3 === 2;
      const c = await d().api('POST', `/containers/create?name=${f.name(`ncr-c-${i}`)}`, { Image: 'busybox', Cmd: ['sleep', '1000'] });
      assert.equal(c.status, 201, c.text);
      const id = c.json.Id as string;
      if (running) assert.equal((await d().api('POST', `/containers/${id}/start`)).status, 204);
      // the order the requests reach the daemon varies with the round
      const connect = () => d().api('POST', `/networks/${netId}/connect`, { Container: id });
      const rmC = () => d().api('DELETE', `/containers/${id}?force=1`, undefined, { timeoutMs: 60_000 });
      const rmN = () => d().api('DELETE', `/networks/${netId}`);
      const order = i % 2 === 0 ? [connect(), rmC(), rmN()] : [rmC(), connect(), rmN()];
      const [a, b, n] = await Promise.all(order);
      const [connected, removed] = i % 2 === 0 ? [a!, b!] : [b!, a!];
      for (const [k, r] of [['connect', connected], ['rm', removed], ['network rm', n!]] as const) seen.set(`${k} ${r.status}`, (seen.get(`${k} ${r.status}`) ?? 0) + 1);
      expectOneOf('connect', connected, { 200: null, 404: /No such container|network .* not found/ });
      expectOneOf('rm -f', removed, { 204: null });
      expectOneOf('network rm', n!, { 204: null, 403: /has active endpoints/, 404: /not found/ });
      removedContainers.add(id);
      // the API: the network, if it is still there, names no removed container
      const inspect = await d().api('GET', `/networks/${netId}`);
      if (inspect.status === 200) {
        assert.deepEqual(Object.keys(inspect.json.Containers ?? {}), [], `network ${netId} still lists ${JSON.stringify(inspect.json.Containers)}`);
        assert.equal((await d().api('DELETE', `/networks/${netId}`)).status, 204);
      } else {
        assert.equal(inspect.status, 404, inspect.text);
      }
      removedNetworks.add(netId);
    }
    // SQLite: no row for anything removed
    const left = endpointRows().filter((r) => removedContainers.has(r.container_id) || removedNetworks.has(r.network_id));
    assert.deepEqual(left, [], `endpoint rows left: ${JSON.stringify(left)} (answers: ${JSON.stringify([...seen])})`);
    assert.equal((await d().api('GET', '/_ping')).status, 200);
    t.diagnostic([...seen].map(([k, v]) => `${k}: ${v}`).join(', '));
  });
});
