// What a start must look up on the host before hostSpecOptions() can map HostConfig to the
// spec: the init binary, the device nodes named with --device, and the containers whose IPC or
// PID namespace this one joins (moby daemon/container_operations_unix.go getIpcContainer/getPidContainer).
import { access, constants } from 'node:fs/promises';
import { ConflictError, InvalidParameterError, NotFoundError, SystemError } from '../../errors.js';
import { hostDevice, listHostDevices } from '../../runtime/host-devices.js';
import type { ContainerRecord } from './model.js';
import { deviceMappings, namespaceMode, type StartFacts } from './create-options.js';
import { shmPath } from './ipc-shm.js';

// Static builds only: the binary runs inside the container's root, where the host's libc is not.
// tini-static is what Docker ships as docker-init; catatonit is podman's.
const INIT_CANDIDATES = ['/usr/bin/tini-static', '/usr/bin/docker-init', '/usr/bin/catatonit', '/usr/libexec/podman/catatonit'];
let initBinary: Promise<string | undefined> | undefined;

export function findInitBinary(): Promise<string | undefined> {
  initBinary ??= (async () => {
    for (const path of INIT_CANDIDATES) {
      if (await access(path, constants.X_OK).then(() => true, () => false)) return path;
    }
    return undefined;
  })();
  return initBinary;
}

export async function lookupStartFacts(
  c: ContainerRecord,
  find: (ref: string) => ContainerRecord,
  bundleDir: (id: string) => string,
): Promise<StartFacts> {
  const hc = c.hostConfig;
  const facts: StartFacts = { devices: [] };
  if (hc.Init === true) {
    facts.initPath = await findInitBinary();
    if (!facts.initPath) throw new SystemError(`no init binary found for --init (looked for ${INIT_CANDIDATES.join(', ')}; apt-get install tini)`);
  }
  if (hc.Privileged) facts.hostDevices = await listHostDevices();
  for (const m of deviceMappings(hc)) {
    const device = await hostDevice(m.PathOnHost);
    if (!device) {
      throw new InvalidParameterError(`error gathering device information while adding custom device "${m.PathOnHost}": not a device node`);
    }
    facts.devices.push({ device: { ...device, path: m.PathInContainer }, access: m.CgroupPermissions });
  }
  const ipc = namespaceMode(hc.IpcMode);
  if (ipc.kind === 'container') {
    const donor = runningDonor(find, ipc.value, 'IPC');
    if (namespaceMode(donor.hostConfig.IpcMode).value !== 'shareable') {
      throw new ConflictError(`cannot join IPC of container ${donor.id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    }
    facts.ipcDonorPid = donor.state.Pid;
    facts.shm = shmPath(bundleDir(donor.id));
  }
  const pid = namespaceMode(hc.PidMode);
  if (pid.kind === 'container') facts.pidDonorPid = runningDonor(find, pid.value, 'PID').state.Pid;
  return facts;
}

function runningDonor(find: (ref: string) => ContainerRecord, ref: string, what: string): ContainerRecord {
  let donor: ContainerRecord;
  try {
    donor = find(ref);
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`cannot join ${what} of a non running container: ${ref}: ${err.message}`);
    throw err;
  }
  if (donor.state.Status === 'restarting') {
    throw new ConflictError(`Container ${donor.id} is restarting, wait until the container is running`);
  }
  if ((donor.state.Status !== 'running' && donor.state.Status !== 'paused') || !donor.state.Pid) throw new ConflictError(`container ${donor.id} is not running`);
  return donor;
}
