// conmon 2.1.6 command lines (flags checked against containers/conmon src/cli.c at v2.1.6 and
// Podman's libpod/oci_conmon_common.go sharedConmonArgs).
import type { RuntimeHandler } from './task-backend.js';

export interface TaskPaths {
  bundle: string;
  /** conmon's persist dir: exit, oom, plus berth's task.json and conmon.pid. */
  taskDir: string;
  exitDir: string;
  containerPidFile: string;
  conmonPidFile: string;
  logPath: string;
}

export interface ConmonArgsInput {
  id: string;
  runtime: RuntimeHandler;
  /** Global runtime flags (--root, --log-format) that conmon passes before `create`. */
  runtimeGlobalArgs: string[];
  paths: TaskPaths;
  stdin: boolean;
  /** With stdin: false keeps the container's stdin open when an attach client goes away. */
  stdinOnce: boolean;
  terminal: boolean;
  logLevel?: string;
  /** `none`: conmon keeps no log (its `-l none`). */
  logDriver?: 'k8s-file' | 'none';
}

export function conmonArgs(input: ConmonArgsInput): string[] {
  const { id, paths } = input;
  const args = ['--api-version', '1', '-c', id, '-u', id, '-r', input.runtime.path];
  // `--runtime-arg=--x=y` keeps GOption from reading a runtime flag as one of conmon's own.
  for (const arg of [...input.runtimeGlobalArgs, ...input.runtime.args]) args.push(`--runtime-arg=${arg}`);
  args.push(
    '-b', paths.bundle,
    '-p', paths.containerPidFile,
    '-n', id,
    '--exit-dir', paths.exitDir,
    '--persist-dir', paths.taskDir,
    '--full-attach',
    '-l', input.logDriver === 'none' ? 'none' : `k8s-file:${paths.logPath}`,
  );
  if (input.stdin) {
    args.push('-i');
    if (!input.stdinOnce) args.push('--leave-stdin-open');
  }
  if (input.terminal) args.push('-t');
  args.push('--log-level', input.logLevel ?? 'error', '-P', paths.conmonPidFile);
  return args;
}
