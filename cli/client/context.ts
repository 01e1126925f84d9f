// What every subcommand gets: the API client and the process's output streams.
import type { ApiClient } from './http.js';

export interface OutputStream {
  write(chunk: string | Uint8Array): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface CommandContext {
  api: ApiClient;
  stdout: OutputStream;
  stderr: OutputStream;
}

export type Command = (ctx: CommandContext, args: string[]) => Promise<number>;
