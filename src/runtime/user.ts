// Resolves Docker's Config.User (`name`, `uid`, `name:group`, `uid:gid`) against the
// container's /etc/passwd and /etc/group, with moby/sys/user's rules and error texts.
import { SystemError, errorMessage } from '../errors.js';
import { readFileInRoot } from '../util/in-root/read-file.js';
import { settledAll } from '../util/settled-all.js';
import type { OciUser } from './oci-spec-types.js';

const MAX_ID = 2147483647;

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

// The container owns these files: a real passwd of this size has some 60,000 users.
const MAX_USER_FILE = 4 * 1024 * 1024;

/** Reads a file inside the rootfs; null when it does not exist (a missing passwd is fine). */
async function readInRoot(rootfs: string, path: string): Promise<string | null> {
  try {
    return (await readFileInRoot(rootfs, path, MAX_USER_FILE))?.toString('utf8') ?? null;
  } catch (err) {
    throw new SystemError(`reading ${path} in the container: ${errorMessage(err)}`);
  }
}

function lines(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

function toInt(s: string | undefined): number {
  const n = Number.parseInt(s ?? '', 10);
  return Number.isNaN(n) ? 0 : n;
}

export function parsePasswd(text: string): PasswdEntry[] {
  return lines(text).map((f) => ({ name: f[0] ?? '', uid: toInt(f[2]), gid: toInt(f[3]) }));
}

export function parseGroup(text: string): GroupEntry[] {
  return lines(text).map((f) => ({
    name: f[0] ?? '',
    gid: toInt(f[2]),
    members: (f[3] ?? '').split(',').filter(Boolean),
  }));
}

/** moby/sys/user parseNumeric: a decimal id in range, or a name. */
function numeric(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  if (n > MAX_ID) throw new SystemError(`uids and gids must be in range 0-${MAX_ID}`);
  return n;
}

export async function resolveUser(rootfs: string, user: string, groupAdd: string[] = []): Promise<OciUser> {
  const colon = user.indexOf(':');
  const userArg = colon >= 0 ? user.slice(0, colon) : user;
  const groupArg = colon >= 0 ? user.slice(colon + 1).split(':')[0]! : '';
  const uidArg = numeric(userArg);
  const gidArg = numeric(groupArg);

  // both settle before either failure is told: the caller may unmount the rootfs right after
  const [passwdText, groupText] = await settledAll<[string | null, string | null]>([readInRoot(rootfs, '/etc/passwd'), readInRoot(rootfs, '/etc/group')]);
  const passwd = passwdText === null ? [] : parsePasswd(passwdText);
  const groups = groupText === null ? [] : parseGroup(groupText);

  let uid = 0;
  let gid = 0;
  let matchedName = '';
  const match = passwd.find((u) =>
    userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg,
  );
  if (match) {
    matchedName = match.name;
    uid = match.uid;
    gid = match.gid;
  } else if (userArg !== '') {
    if (uidArg === undefined) throw new SystemError(`unable to find user ${userArg}: no matching entries in passwd file`);
    uid = uidArg;
  }

  let sgids: number[] = [];
  if (groupArg !== '') {
    const g = groups.find((e) => (gidArg !== undefined ? e.gid === gidArg : e.name === groupArg));
    if (g) gid = g.gid;
    else if (gidArg !== undefined) gid = gidArg;
    else throw new SystemError(`unable to find group ${groupArg}: no matching entries in group file`);
  } else if (matchedName) {
    sgids = groups.filter((g) => g.members.includes(matchedName)).map((g) => g.gid);
  }

  const added: number[] = [];
  for (const name of groupAdd) {
    const wanted = numeric(name);
    const g = groups.find((e) => e.name === name || (wanted !== undefined && e.gid === wanted));
    let id: number;
    if (g) id = g.gid;
    else if (wanted !== undefined) id = wanted;
    else throw new SystemError(`unable to find group ${name}: no matching entries in group file`);
    if (!added.includes(id)) added.push(id);
  }

  return { uid, gid, additionalGids: [gid, ...sgids, ...added] };
}
