// rename (moby daemon/rename.go): validation and conflicts like create, event `rename` with oldName.
import { BerthError, ConflictError, InvalidParameterError } from '../../errors.js';
import type { ContainerService } from '../containers/service.js';
import { normaliseContainerName } from '../containers/names.js';
import { faultPoint } from '../../util/fault-point.js';

export async function renameContainer(svc: ContainerService, ref: string, newNameRaw: string): Promise<void> {
  if (!ref || !newNameRaw) throw new InvalidParameterError('Neither old nor new names may be empty');
  const newName = newNameRaw.startsWith('/') ? newNameRaw : `/${newNameRaw}`;
  const c = svc.get(ref);
  await svc.lock.run(c.id, async () => {
    const oldName = c.name;
    if (oldName === newName) throw new InvalidParameterError('Renaming a container with the same name as its current name');
    const allocating = (err: BerthError) => {
      const Ctor = err.constructor as new (m: string) => BerthError;
      return new Ctor(`Error when allocating new name: ${err.message}`);
    };
    try {
      normaliseContainerName(newName);
    } catch (err) {
      throw err instanceof BerthError ? allocating(err) : err;
    }
    const holder = svc.deps.store.idByName(newName);
    if (holder) {
      throw allocating(
        new ConflictError(
          `Conflict. The container name "${newName}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`,
        ),
      );
    }
    c.renamedFrom = oldName;
    try {
      svc.deps.store.rename(c, newName);
    } catch (err) {
      delete c.renamedFrom;
      if (String(err).includes('UNIQUE constraint failed')) {
        throw allocating(new ConflictError(`Conflict. The container name "${newName}" is already in use. You have to remove (or rename) that container to be able to reuse that name.`));
      }
      throw err;
    }
    faultPoint('rename.after-row');
    await svc.deps.networking.renamed(c, oldName);
    delete c.renamedFrom;
    svc.deps.store.save(c);
    svc.emit(c, 'rename', { oldName });
  });
}
