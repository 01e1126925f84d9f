// Copies a container's output stream (logs or attach) to our stdout/stderr.
import type { Readable } from 'node:stream';
import { FrameDemuxer } from '../stdcopy.js';
import type { CommandContext } from '../context.js';

/** Resolves when the stream ends; raw for TTY containers, stdcopy frames otherwise. */
export async function copyContainerOutput(ctx: CommandContext, stream: Readable, tty: boolean): Promise<void> {
  const demux = tty
    ? undefined
    : new FrameDemuxer((type, payload) => {
        if (type === 1) ctx.stdout.write(payload);
        else ctx.stderr.write(payload); // 2 stderr, 3 an error reported by the daemon
      });
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => (demux ? demux.push(chunk) : ctx.stdout.write(chunk)));
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(err)));
  });
}
