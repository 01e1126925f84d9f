// Interactive stdio through conmon's SOCK_SEQPACKET attach socket (conmon src/conn_sock.c):
// output packets start with one byte naming the stream (2 stdout, 3 stderr); whatever we send
// goes to the container's stdin. When the client half-closes or disconnects, conmon closes the
// container's stdin unless it runs with --leave-stdin-open.
//
// conmon writes output to attach clients with a blocking write (conn_sock.c
// write_back_to_remote_consoles): while berth does not read, conmon waits and so does the
// container's output (its log included), which is what Docker does for a slow attach client.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { SystemError, errorMessage } from '../errors.js';
import { SeqpacketSocket, type PacketHandlers } from './seqpacket-socket.js';
import type { TaskAttach } from './task-backend.js';

const STDOUT_PIPE = 2;
const STDERR_PIPE = 3;
/** conmon reads stdin packets with recvfrom(buf, CONN_SOCK_BUF_SIZE - 1); longer ones are cut. */
const MAX_STDIN_PACKET = 32768 - 1;
const SUN_PATH_MAX = 107;
/** Output queued per stream before the socket stops being read (conmon packets are <= 8 KiB). */
const OUTPUT_HIGH_WATER = 64 * 1024;

/** Connect to <bundle>/attach; long bundle paths go through /proc/self/fd like Podman does. */
async function connectAttach(bundle: string, on: PacketHandlers): Promise<SeqpacketSocket> {
  const direct = `${bundle}/attach`;
  try {
    if (Buffer.byteLength(direct) <= SUN_PATH_MAX) return await SeqpacketSocket.connect(direct, on);
    const dir = await open(bundle, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      return await SeqpacketSocket.connect(`/proc/self/fd/${dir.fd}/attach`, on);
    } finally {
      await dir.close();
    }
  } catch (err) {
    throw new SystemError(`cannot attach to container: ${errorMessage(err)}`);
  }
}

export async function attachConmon(bundle: string, withStdin: boolean): Promise<TaskAttach> {
  // Output flows only as fast as it is consumed: a stream whose queue is full stops the socket
  // (see SeqpacketSocket), its next read() starts it again.
  const full = new Set<Readable>();
  let socket: SeqpacketSocket | undefined;
  const output = () => {
    const stream: Readable = new Readable({
      highWaterMark: OUTPUT_HIGH_WATER,
      read() {
        full.delete(stream);
        if (full.size === 0) socket?.resume();
      },
    });
    return stream;
  };
  const stdout = output();
  const stderr = output();
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    stdout.push(null);
    stderr.push(null);
  };
  socket = await connectAttach(bundle, {
    packet(packet) {
      if (packet.length < 2) return true;
      const target = packet[0] === STDOUT_PIPE ? stdout : packet[0] === STDERR_PIPE ? stderr : null;
      if (!target || target.push(packet.subarray(1))) return true;
      full.add(target);
      return false;
    },
    end: finish,
  });
  const sock = socket;

  const stdin = withStdin
    ? new Writable({
        write(chunk: Buffer, _enc, callback) {
          // Empty packets would read as EOF on conmon's side, so never send one.
          if (chunk.length === 0) {
            callback();
            return;
          }
          let off = 0;
          const next = (err?: Error) => {
            if (err) {
              callback(err);
              return;
            }
            if (off >= chunk.length) {
              callback();
              return;
            }
            const len = Math.min(MAX_STDIN_PACKET, chunk.length - off);
            const at = off;
            off += len;
            sock.write(chunk, at, len, next);
          };
          next();
        },
        final(callback) {
          // Half-close: conmon sees EOF and closes the container's stdin.
          sock.shutdownWrite(() => callback());
        },
      })
    : null;

  return {
    stdout,
    stderr,
    stdin,
    close() {
      sock.close();
      finish();
    },
  };
}
