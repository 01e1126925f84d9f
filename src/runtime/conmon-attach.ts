// Interactive stdio through conmon's SOCK_SEQPACKET attach socket (conmon src/conn_sock.c):
// output packets start with one byte naming the stream (2 stdout, 3 stderr); whatever we send
// goes to the container's stdin. When the client half-closes or disconnects, conmon closes the
// container's stdin unless it runs with --leave-stdin-open.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { SeqpacketSocket } from 'node-unix-socket';
import { SystemError, errorMessage } from '../errors.js';
import type { TaskAttach } from './task-backend.js';

const STDOUT_PIPE = 2;
const STDERR_PIPE = 3;
/** conmon reads stdin packets with recvfrom(buf, CONN_SOCK_BUF_SIZE - 1); longer ones are cut. */
const MAX_STDIN_PACKET = 32768 - 1;
const SUN_PATH_MAX = 107;

function connect(socket: SeqpacketSocket, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    try {
      socket.connect(path, () => {
        socket.off('error', onError);
        resolve();
      });
    } catch (err) {
      socket.off('error', onError);
      reject(err);
    }
  });
}

/** Connect to <bundle>/attach; long bundle paths go through /proc/self/fd like Podman does. */
async function connectAttach(bundle: string): Promise<SeqpacketSocket> {
  const socket = new SeqpacketSocket();
  const direct = `${bundle}/attach`;
  try {
    if (Buffer.byteLength(direct) <= SUN_PATH_MAX) {
      await connect(socket, direct);
    } else {
      const dir = await open(bundle, constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        await connect(socket, `/proc/self/fd/${dir.fd}/attach`);
      } finally {
        await dir.close();
      }
    }
  } catch (err) {
    socket.destroy();
    throw new SystemError(`cannot attach to container: ${errorMessage(err)}`);
  }
  return socket;
}

export async function attachConmon(bundle: string, withStdin: boolean): Promise<TaskAttach> {
  const socket = await connectAttach(bundle);
  // The addon has no flow control on receive: output is buffered until read.
  const stdout = new Readable({ read() {} });
  const stderr = new Readable({ read() {} });
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    stdout.push(null);
    stderr.push(null);
  };
  socket.on('data', (packet: Buffer) => {
    if (packet.length < 2) return;
    const payload = packet.subarray(1);
    if (packet[0] === STDOUT_PIPE) stdout.push(payload);
    else if (packet[0] === STDERR_PIPE) stderr.push(payload);
  });
  socket.on('end', finish);
  socket.on('close', finish);
  socket.on('error', finish);

  let closed = false;
  const stdin = withStdin
    ? new Writable({
        write(chunk: Buffer, _enc, callback) {
          if (closed) {
            callback(new SystemError('attach connection is closed'));
            return;
          }
          // Empty packets would read as EOF on conmon's side, so never send one.
          const packets = Math.ceil(chunk.length / MAX_STDIN_PACKET);
          if (packets === 0) {
            callback();
            return;
          }
          let pending = packets;
          let failed = false;
          const done = () => {
            if (--pending === 0 && !failed) callback();
          };
          try {
            for (let off = 0; off < chunk.length; off += MAX_STDIN_PACKET) {
              socket.write(chunk, off, Math.min(MAX_STDIN_PACKET, chunk.length - off), done);
            }
          } catch (err) {
            failed = true;
            callback(new SystemError(errorMessage(err)));
          }
        },
        final(callback) {
          if (closed) {
            callback();
            return;
          }
          try {
            // Half-close: conmon sees EOF and closes the container's stdin.
            socket.end(() => callback());
          } catch {
            callback();
          }
        },
      })
    : null;

  return {
    stdout,
    stderr,
    stdin,
    close() {
      if (closed) return;
      closed = true;
      socket.destroy();
      finish();
    },
  };
}
