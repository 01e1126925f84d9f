// A CRI container's process arguments against its image's ENTRYPOINT and CMD, by containerd's
// rule (itself moby's commit merge): `command` replaces the ENTRYPOINT and, when `args` is
// empty, drops the image's CMD too; `args` alone replace the CMD.
import { InvalidParameterError } from '../../errors.js';

export interface ProcessArgs {
  /** What the record keeps as Config.Entrypoint and Config.Cmd (argv = entrypoint + cmd). */
  entrypoint: string[];
  cmd: string[];
}

export function processArgs(
  command: string[] | undefined,
  args: string[] | undefined,
  image: { Entrypoint?: string[] | null; Cmd?: string[] | null },
): ProcessArgs {
  let entrypoint = command ?? [];
  let cmd = args ?? [];
  if (entrypoint.length === 0) {
    if (cmd.length === 0) cmd = [...(image.Cmd ?? [])];
    const imageEntry = image.Entrypoint ?? [];
    // an image built with `ENTRYPOINT [""]` means "no entrypoint"
    if (!(imageEntry.length === 1 && imageEntry[0] === '')) entrypoint = [...imageEntry];
  }
  if (entrypoint.length === 0 && cmd.length === 0) throw new InvalidParameterError('no command specified');
  return { entrypoint, cmd };
}
