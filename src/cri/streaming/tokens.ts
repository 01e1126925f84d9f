// The streaming server's request cache: an Exec/Attach/PortForward RPC stores what it asked for
// under a random token, and the URL it returns carries that token. A token is good once and for
// a short time (containerd: one minute), so a URL that leaked cannot be replayed.
import { randomBytes } from 'node:crypto';
import { UnavailableError } from '../../errors.js';

export const TOKEN_TTL_MS = 60_000;
/** containerd's cap on requests not yet used. */
export const MAX_IN_FLIGHT = 1000;

export class TokenCache<T> {
  private readonly entries = new Map<string, { value: T; expires: number }>();

  constructor(
    private readonly ttlMs = TOKEN_TTL_MS,
    private readonly max = MAX_IN_FLIGHT,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Stores a request; returns its token (URL-safe, 128 random bits). */
  insert(value: T): string {
    this.sweep();
    if (this.entries.size >= this.max) throw new UnavailableError('maximum number of in-flight streaming requests exceeded');
    const token = randomBytes(16).toString('base64url');
    this.entries.set(token, { value, expires: this.now() + this.ttlMs });
    return token;
  }

  /** The request behind a token, removed on the way: a second use, or a late one, finds nothing. */
  consume(token: string): T | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    this.entries.delete(token);
    return e.expires > this.now() ? e.value : undefined;
  }

  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [token, e] of this.entries) if (e.expires <= now) this.entries.delete(token);
  }
}
