// docker-py (Debian's python3-docker) driven against a test daemon: a Python script run by
// /usr/bin/python3 (the `python3` on PATH is a pyenv shim that cannot import docker), with
// DOCKER_HOST pointing at the daemon's socket.
import { runCommand, type CmdResult, type Daemon } from './harness.js';

export const PYTHON_BIN = process.env.BERTH_TEST_PYTHON ?? '/usr/bin/python3';

/**
 * Put before every script by runDockerPy: `client` (docker.DockerClient), `api` (its low-level
 * APIClient) and `emit(obj)`, which prints obj as one JSON line. bytes are emitted as latin-1
 * strings (one char per byte, lossless): read them back with Buffer.from(s, 'latin1').
 */
export const DOCKER_PY_PRELUDE = `
import json, sys, docker
client = docker.from_env(timeout=120)
api = client.api
def _jsonable(o):
    if isinstance(o, (bytes, bytearray)):
        return bytes(o).decode('latin-1')
    raise TypeError(repr(o))
def emit(obj):
    sys.stdout.write(json.dumps(obj, default=_jsonable) + '\\n')
    sys.stdout.flush()
`;

export interface PythonOptions {
  /** arguments after the script, as sys.argv[1:] */
  args?: string[];
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Run `script` (Python source, no prelude) with /usr/bin/python3 against daemon `d`; never rejects. */
export function runPython(d: Daemon, script: string, opts: PythonOptions = {}): Promise<CmdResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${d.socket}`, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...opts.env };
  delete env.DOCKER_TLS_VERIFY;
  delete env.DOCKER_CERT_PATH;
  delete env.DOCKER_CONTEXT;
  return runCommand(PYTHON_BIN, ['-c', script, ...(opts.args ?? [])], { input: opts.input, timeoutMs: opts.timeoutMs ?? 120_000, env });
}

/** runPython with DOCKER_PY_PRELUDE before `script`. */
export function runDockerPy(d: Daemon, script: string, opts: PythonOptions = {}): Promise<CmdResult> {
  return runPython(d, `${DOCKER_PY_PRELUDE}\n${script}`, opts);
}

/**
 * runDockerPy that must exit 0; returns every line the script emit()ted, parsed. A failure
 * throws with the script's stderr (docker-py's traceback names the API error).
 */
export async function dockerPyEmits(d: Daemon, script: string, opts: PythonOptions = {}): Promise<any[]> {
  const r = await runDockerPy(d, script, opts);
  if (r.code !== 0) throw new Error(`docker-py script exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

/** The bytes an emit() of a bytes value stood for. */
export const bytesOf = (s: string): Buffer => Buffer.from(s, 'latin1');
