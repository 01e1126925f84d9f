// CRI's view of an image record: fully qualified names (the Docker API shortens them, CRI never
// does), the config digest as id, and the user the image runs as.
import type { ImageRecord } from '../../images/types.js';

export interface CriImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: string;
  uid?: { value: string };
  username: string;
  spec: { image: string; annotations: Record<string, string> };
  pinned: boolean;
}

export function criImage(rec: ImageRecord, opts: { pinned?: boolean } = {}): CriImage {
  const { uid, username } = imageUser(rec.config?.config?.User);
  const out: CriImage = {
    id: rec.id,
    repoTags: [...rec.repoTags],
    repoDigests: [...rec.repoDigests],
    // CRI says size > 0; an image of empty layers still has its config
    size: String(Math.max(rec.size, 1)),
    username,
    spec: { image: rec.id, annotations: {} },
    pinned: opts.pinned === true,
  };
  if (uid !== undefined) out.uid = { value: uid };
  return out;
}

/**
 * The image's USER as CRI reports it (containerd's rule): the part before any `:` group; a number
 * is the uid (Int64Value, present even for 0), anything else the username; no USER, neither.
 */
export function imageUser(user: string | undefined): { uid?: string; username: string } {
  if (!user) return { username: '' };
  const u = user.split(':')[0];
  if (/^-?[0-9]+$/.test(u)) {
    const n = BigInt(u);
    // strconv.ParseInt's range: beyond int64 it is no number, so a name
    if (n >= -(2n ** 63n) && n < 2n ** 63n) return { uid: n.toString(), username: '' };
  }
  return { username: u };
}
