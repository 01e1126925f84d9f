/**
 * A real terminal for interactive e2e tests: a private tmux server (its own -L socket) whose
 * panes run the docker CLI against a test daemon. Tests type with keys() and wait for screen
 * content with waitFor(); nothing is timed, every wait is for a condition (the timeout only
 * turns a hang into a failure).
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { DOCKER_BIN, runCommand } from './harness.js';
import type { Daemon } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class Tmux {
  readonly server = `berth-${randomBytes(4).toString('hex')}`;
  private panes = 0;

  constructor(private readonly d: Daemon) {}

  private async tmux(args: string[]): Promise<string> {
    const r = await runCommand('tmux', ['-L', this.server, ...args], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.code} ${r.stderr}`);
    return r.stdout;
  }

  /**
   * Start `docker <args>` in a new session of `width` x `height`; when docker exits the pane
   * prints `EXITED=<code>` and stays, so the exit code can be read from the screen.
   */
  async run(dockerArgs: string[], size = { width: 100, height: 30 }): Promise<string> {
    return this.runProgram([DOCKER_BIN, ...dockerArgs], size);
  }

  /** As run(), for any program (e.g. the berth CLI), with DOCKER_HOST set to the daemon. */
  async runProgram(argv: string[], size = { width: 100, height: 30 }): Promise<string> {
    const name = `p${this.panes++}`;
    const env = `DOCKER_HOST=${quote(`unix://${this.d.socket}`)} DOCKER_CONFIG=${quote(this.d.dockerConfig)}`;
    const cmd = `env ${env} ${argv.map(quote).join(' ')}; echo EXITED=$?; sleep 100000`;
    await this.tmux(['new-session', '-d', '-s', name, '-x', String(size.width), '-y', String(size.height), cmd]);
    return name;
  }

  /** tmux send-keys: literal text with {literal: true}, else key names (Enter, C-c, C-p...). */
  async keys(pane: string, keys: string[], opts: { literal?: boolean } = {}): Promise<void> {
    await this.tmux(['send-keys', '-t', pane, ...(opts.literal ? ['-l'] : []), ...keys]);
  }

  /** Type a line and press Enter. */
  async line(pane: string, text: string): Promise<void> {
    await this.keys(pane, [text], { literal: true });
    await this.keys(pane, ['Enter']);
  }

  async resize(pane: string, width: number, height: number): Promise<void> {
    await this.tmux(['resize-window', '-t', pane, '-x', String(width), '-y', String(height)]);
  }

  /** The pane's text, scrollback included. */
  async screen(pane: string): Promise<string> {
    return this.tmux(['capture-pane', '-p', '-J', '-S', '-500', '-t', pane]);
  }

  /** Wait until the screen matches; returns the match. */
  async waitFor(pane: string, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let text = '';
    while (Date.now() < deadline) {
      text = await this.screen(pane);
      const m = pattern.exec(text);
      if (m) return m;
      await sleep(100);
    }
    throw new Error(`pane ${pane}: ${pattern} did not appear within ${timeoutMs} ms; screen:\n${text}`);
  }

  /** The exit code docker printed when it finished. */
  async exitCode(pane: string): Promise<number> {
    const m = await this.waitFor(pane, /EXITED=(\d+)/);
    return Number(m[1]);
  }

  /** Stop the server and remove its socket file (tmux leaves it behind). */
  async kill(): Promise<void> {
    const path = (await runCommand('tmux', ['-L', this.server, 'display-message', '-p', '#{socket_path}'], { timeoutMs: 10_000 })).stdout.trim();
    await runCommand('tmux', ['-L', this.server, 'kill-server'], { timeoutMs: 10_000 });
    if (path.endsWith(this.server)) await rm(path, { force: true });
  }
}
