// Which images (and under which tags) a docker save of `names` holds, as moby's
// tarexport.parseNames: an ID or ID prefix saves the image untagged; a bare repository name
// saves every tag of that repository (or, with none, is searched as an ID prefix); a tagged
// or digest reference saves that one reference. The not-found texts are moby's own.
import { NotFoundError } from '../../errors.js';
import type { ImageStore } from '../store/image-store.js';
import { parseNormalizedNamed, referenceName, referenceString, withDefaultTag, type ImageReference } from '../reference.js';
import type { ImageRecord } from '../types.js';
import type { SaveTarget } from './save-archive.js';

function searchId(store: ImageStore, name: string): ImageRecord {
  const hex = name.startsWith('sha256:') ? name.slice(7) : name;
  const ids = /^[a-f0-9]+$/.test(hex) ? store.idsWithPrefix(hex) : [];
  if (ids.length !== 1) throw new NotFoundError(`No such image: ${name}`);
  return store.get(ids[0])!;
}

export function resolveSaveNames(store: ImageStore, names: string[]): SaveTarget[] {
  const out: SaveTarget[] = [];
  for (const name of names) {
    if (/^(sha256:)?[a-f0-9]{64}$/.test(name) || name.startsWith('sha256:')) {
      out.push({ image: searchId(store, name), tags: [] });
      continue;
    }
    const ref: ImageReference = parseNormalizedNamed(name);
    if (ref.tag === undefined && ref.digest === undefined) {
      const repo = referenceName(ref);
      const tagged = store.list().flatMap((img) => img.repoTags.filter((t) => referenceName(parseNormalizedNamed(t)) === repo).map((t) => ({ image: img, tags: [t] })));
      out.push(...(tagged.length > 0 ? tagged : [{ image: searchId(store, name), tags: [] }]));
      continue;
    }
    const full = referenceString(withDefaultTag(ref));
    const id = store.resolveRef(full);
    if (id === undefined) throw new NotFoundError('reference does not exist');
    // a digest reference names the image but is no tag to save it under
    out.push({ image: store.get(id)!, tags: ref.digest === undefined ? [full] : [] });
  }
  return out;
}
