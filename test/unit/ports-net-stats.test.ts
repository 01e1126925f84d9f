// docker stats' `networks`: /proc/<pid>/net/dev parsed into moby's NetworkStats per interface.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetDev, readNetworkStats } from '../../src/engine/monitoring/net-dev.js';

const SAMPLE = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     672       8    0    0    0     0          0         0      672       8    0    0    0     0       0          0
  eth0:    5331      41    1    2    0     0          0         0     1102      13    3    4    0     0       0          0
  eth1:100000000000 9 0 0 0 0 0 0 7 1 0 0 0 0 0 0
`;

test('parseNetDev: rx/tx bytes, packets, errors, drops per interface, lo left out', () => {
  assert.deepEqual(parseNetDev(SAMPLE), {
    eth0: { rx_bytes: 5331, rx_packets: 41, rx_errors: 1, rx_dropped: 2, tx_bytes: 1102, tx_packets: 13, tx_errors: 3, tx_dropped: 4 },
    eth1: { rx_bytes: 100000000000, rx_packets: 9, rx_errors: 0, rx_dropped: 0, tx_bytes: 7, tx_packets: 1, tx_errors: 0, tx_dropped: 0 },
  });
  assert.deepEqual(parseNetDev(''), {});
});

test('readNetworkStats: a pid that is gone or invalid has no networks', async () => {
  assert.equal(await readNetworkStats(0), undefined);
  assert.equal(await readNetworkStats(2 ** 22 + 12345), undefined);
});
