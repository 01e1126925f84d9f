// The API socket's group, found as dockerd's listeners.lookupGID does: a name or a number in
// /etc/group, else a bare number. Only the default group may be missing (the socket then keeps
// the daemon's own group, with moby's warning); a group asked for by name that does not exist
// stops the daemon before it listens, as dockerd's "group X not found".
import { readFile } from 'node:fs/promises';

export const DEFAULT_SOCKET_GROUP = 'docker';

export class SocketGroupError extends Error {}

export interface SocketGroup {
  gid: number;
  /** moby's warning when the default group is missing (the caller logs it). */
  warning?: string;
}

export async function socketGroup(group: string, socketPath: string, groupFile = '/etc/group'): Promise<SocketGroup> {
  const text = await readFile(groupFile, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (gid !== undefined && /^[0-9]+$/.test(gid) && (name === group || gid === group)) return { gid: Number(gid) };
  }
  if (/^[0-9]+$/.test(group)) return { gid: Number(group) };
  const own = process.getgid?.() ?? 0;
  if (group === '') return { gid: own };
  if (group === DEFAULT_SOCKET_GROUP) return { gid: own, warning: `could not change group ${socketPath} to ${DEFAULT_SOCKET_GROUP}: group ${group} not found` };
  throw new SocketGroupError(`group ${group} not found`);
}
