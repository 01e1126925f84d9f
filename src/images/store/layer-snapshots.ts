// Read-only layer dirs under <root>/snapshots/layers/<chainID hex>, each holding one layer's
// diff (whiteouts in overlayfs form), used as overlay lower dirs. A layer is unpacked into a
// '.tmp-' dir and renamed into place only when complete, so a dir with a chainID name is
// always whole; tmp dirs are removed at startup, and so is anything that is not a real
// directory where one belongs (startup must survive a damaged data-root).
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SystemError } from '../../errors.js';
import { digestHex, type Gate } from './content-store.js';
import { applyLayer, type ApplyResult } from '../layers/unpack.js';
import { applyLayerInWorker } from '../layers/unpack-worker.js';
import { chainIds } from './chain-id.js';
import { dropNonDirSync, ensureRealDirSync, type DamageLog } from './real-dir-sync.js';

const TMP_PREFIX = '.tmp-';

export class LayerSnapshots {
  readonly dir: string;
  private readonly root: string;

  constructor(
    root: string,
    private readonly gate: Gate = async () => undefined,
  ) {
    this.root = root;
    this.dir = join(root, 'snapshots', 'layers');
  }

  /**
   * Startup: make the dirs (replacing non-directories in their way), drop half-unpacked tmp
   * dirs and layer entries that are not directories; returns the chain IDs present.
   */
  initSync(log: DamageLog = () => undefined): string[] {
    mkdirSync(this.root, { recursive: true });
    ensureRealDirSync(join(this.root, 'snapshots'), log);
    ensureRealDirSync(this.dir, log);
    const present: string[] = [];
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      if (name.startsWith(TMP_PREFIX)) rmSync(path, { recursive: true, force: true });
      else if (/^[a-f0-9]{64}$/.test(name) && !dropNonDirSync(path, log)) present.push(`sha256:${name}`);
    }
    return present;
  }

  path(chainId: string): string {
    return join(this.dir, digestHex(chainId));
  }

  /** Every chain ID with a layer dir (the garbage collector's listing; tmp dirs are not layers). */
  async list(): Promise<string[]> {
    return (await readdir(this.dir)).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  /** Whether the layer dir is present; hold the chain first, or a garbage collection may remove it right after. */
  async exists(chainId: string): Promise<boolean> {
    await this.gate();
    try {
      return (await lstat(this.path(chainId))).isDirectory();
    } catch {
      return false;
    }
  }

  /**
   * Unpack `src` as the layer on top of `parentChainId` (null for the base layer). If
   * `expectedDiffId` is given the uncompressed tar must hash to it. Returns the layer's
   * chainID, diffID and size, and whether this call created the dir.
   */
  async unpack(
    src: Readable,
    parentChainId: string | null,
    expectedDiffId?: string,
    /** Called with the chain ID before it is looked for or renamed into place (an Ingest holds it here). */
    onChainId?: (chainId: string) => void,
    /** On the daemon's thread: a small layer's unpack costs less than starting a worker (~50 ms). */
    opts: { inline?: boolean } = {},
  ): Promise<ApplyResult & { chainId: string; created: boolean }> {
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `${TMP_PREFIX}${randomBytes(8).toString('hex')}`);
    await mkdir(tmp, { mode: 0o755 });
    try {
      const res = opts.inline ? await applyLayer(src, tmp) : await applyLayerInWorker(src, tmp);
      if (expectedDiffId !== undefined && res.diffId !== expectedDiffId) {
        throw new SystemError(`failed to register layer: layer diffID ${res.diffId} does not match ${expectedDiffId} from the image config`);
      }
      const chainId = parentChainId === null ? res.diffId : chainIds([parentChainId, res.diffId])[1];
      const final = this.path(chainId);
      onChainId?.(chainId);
      if (await this.exists(chainId)) {
        await rm(tmp, { recursive: true, force: true });
        return { ...res, chainId, created: false };
      }
      await rename(tmp, final);
      return { ...res, chainId, created: true };
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  async remove(chainId: string): Promise<void> {
    // Rename first so a crash mid-delete leaves a tmp dir (cleaned at startup), never a partial layer.
    const doomed = join(this.dir, `${TMP_PREFIX}rm-${randomBytes(8).toString('hex')}`);
    try {
      await rename(this.path(chainId), doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await rm(doomed, { recursive: true, force: true });
  }
}
