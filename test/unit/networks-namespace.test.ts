// Networks in namespaces: the CRI's pod network ('k8s.io') is kept apart from Docker's networks
// as containerd keeps k8s.io apart from moby: names are unique per namespace, subnets and bridges
// across all, and the store's name index is Docker's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { buildNetwork, type CreateContext } from '../../src/engine/networks/create-network.js';
import { findNetwork } from '../../src/engine/networks/lookup.js';
import { isDockerNetwork, type NetworkRecord } from '../../src/engine/networks/model.js';
import { NetworkStore } from '../../src/engine/networks/store.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../src/errors.js';

function ctx(existing: NetworkRecord[] = [], namespace?: string): CreateContext {
  return { existing, pools: [{ base: '10.200.0.0/16', size: 24 }], routes: [], namespace };
}

describe('networks: namespaces', () => {
  it('a network made in a namespace carries it; a request alone never does', () => {
    const cri = buildNetwork({ Name: 'berth-cri', IPAM: { Config: [{ Subnet: '10.223.0.0/16' }] }, Labels: { 'io.berth.cri.pod-network': 'true' } }, ctx([], 'k8s.io'));
    assert.equal(cri.namespace, 'k8s.io');
    assert.equal(isDockerNetwork(cri), false);
    const mine = buildNetwork({ Name: 'lookalike', Labels: { 'io.berth.cri.pod-network': 'true' } }, ctx([cri]));
    assert.equal(mine.namespace, undefined);
    assert.equal(isDockerNetwork(mine), true);
  });

  it('names are unique per namespace; subnets and bridge names across all', () => {
    const cri = buildNetwork({ Name: 'berth-cri', IPAM: { Config: [{ Subnet: '10.223.0.0/16' }] } }, ctx([], 'k8s.io'));
    const docker = buildNetwork({ Name: 'berth-cri' }, ctx([cri]));
    assert.notEqual(docker.ipam.Config[0].Subnet, '10.223.0.0/16');
    assert.throws(() => buildNetwork({ Name: 'berth-cri' }, ctx([cri, docker])), ConflictError);
    assert.throws(() => buildNetwork({ Name: 'berth-cri' }, ctx([cri, docker], 'k8s.io')), ConflictError);
    assert.throws(() => buildNetwork({ Name: 'over', IPAM: { Config: [{ Subnet: '10.223.4.0/24' }] } }, ctx([cri])), ForbiddenError);
    assert.throws(() => buildNetwork({ Name: 'samebr', Options: { 'com.docker.network.bridge.name': cri.bridge } }, ctx([cri])), ForbiddenError);
  });

  it('Docker lookups over Docker networks miss the namespaced one by name, id and prefix', () => {
    const cri = buildNetwork({ Name: 'berth-cri', IPAM: { Config: [{ Subnet: '10.223.0.0/16' }] } }, ctx([], 'k8s.io'));
    const docker = [buildNetwork({ Name: 'front' }, ctx([cri]))];
    const visible = [cri, ...docker].filter(isDockerNetwork);
    for (const term of ['berth-cri', cri.id, cri.id.slice(0, 12)]) {
      assert.throws(() => findNetwork(visible, term), (e: Error) => e instanceof NotFoundError && e.message === `network ${term} not found`);
    }
    assert.equal(findNetwork([cri].filter((n) => n.namespace === 'k8s.io'), 'berth-cri').id, cri.id);
  });

  it('the store keeps both namespaces\' networks of one name; its name index is Docker\'s', () => {
    const db = new Database(':memory:');
    const store = new NetworkStore(db);
    const cri = buildNetwork({ Name: 'berth-cri', IPAM: { Config: [{ Subnet: '10.223.0.0/16' }] } }, ctx([], 'k8s.io'));
    store.insertNetwork(cri);
    assert.equal(store.networkByName('berth-cri'), undefined);
    const docker = buildNetwork({ Name: 'berth-cri' }, ctx([cri]));
    store.insertNetwork(docker);
    assert.equal(store.networkByName('berth-cri')?.id, docker.id);
    store.deleteNetwork(cri.id);
    assert.equal(store.networkByName('berth-cri')?.id, docker.id, 'removing the CRI\'s network leaves Docker\'s of the same name');
    store.insertNetwork(cri);
    const again = new NetworkStore(db);
    assert.equal(again.network(cri.id)?.namespace, 'k8s.io');
    assert.equal(again.networkByName('berth-cri')?.id, docker.id);
    db.close();
  });

  it('an earlier berth\'s pod network among Docker\'s moves to the CRI\'s namespace; a lookalike without the label stays', () => {
    const db = new Database(':memory:');
    // the schema before namespaces (migrations 1 and 2)
    db.exec(`CREATE TABLE schema_migrations (module TEXT PRIMARY KEY, version INTEGER NOT NULL);
      INSERT INTO schema_migrations VALUES ('networks', 2);
      CREATE TABLE networks (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, record TEXT NOT NULL);
      CREATE TABLE endpoints (container_id TEXT NOT NULL, network_id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (container_id, network_id));
      CREATE TABLE sandboxes (container_id TEXT PRIMARY KEY, record TEXT NOT NULL);`);
    const old = buildNetwork({ Name: 'berth-cri', IPAM: { Config: [{ Subnet: '10.223.0.0/16' }] }, Labels: { 'io.berth.cri.pod-network': 'true' } }, ctx());
    const plain = buildNetwork({ Name: 'other', Labels: { 'io.berth.cri.pod-network': 'false' } }, ctx([old]));
    const ins = db.prepare('INSERT INTO networks (id, name, record) VALUES (?, ?, ?)');
    ins.run(old.id, old.name, JSON.stringify(old));
    ins.run(plain.id, plain.name, JSON.stringify(plain));
    const store = new NetworkStore(db);
    assert.equal(store.network(old.id)?.namespace, 'k8s.io');
    assert.equal(store.networkByName('berth-cri'), undefined);
    assert.equal(store.network(plain.id)?.namespace, undefined);
    assert.equal(store.networkByName('other')?.id, plain.id);
    db.close();
  });
});
