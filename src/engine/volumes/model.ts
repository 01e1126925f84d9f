// What volumes keep: a volume's row (the local driver's metadata) and a container's mount points
// (moby's MountPoint, persisted on the container record as config.v2.json keeps it).

export type MountType = 'bind' | 'volume' | 'tmpfs';

/** A `local` volume. Its data lives in `<data-root>/volumes/<name>/_data`. */
export interface VolumeRecord {
  name: string;
  driver: string;
  /** As given (null when none were); anonymous volumes carry com.docker.volume.anonymous. */
  labels: Record<string, string> | null;
  /** Driver options (`type`, `o`, `device`) as given, or null. */
  options: Record<string, string> | null;
  /** RFC 3339, seconds. */
  created: string;
  anonymous: boolean;
  /** The container whose create made this anonymous volume, until that create has its row: a crash in between leaves it to no one, and the next start removes it. */
  madeFor?: string;
}

/** Docker's label on volumes made without a name (moby volume/service AnonymousLabel). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** One mount of a container, decided at create. */
export interface MountPoint {
  Type: MountType;
  /** The volume's name (volumes only). */
  Name?: string;
  /** Host path: a bind's source or the volume's _data dir; '' for tmpfs. */
  Source: string;
  Destination: string;
  /** 'local' for volumes. */
  Driver?: string;
  /** The mode string the user gave (`ro,z`); 'z' for named volumes without one, as moby. */
  Mode: string;
  RW: boolean;
  /** Binds only ('rprivate' unless given); '' otherwise. */
  Propagation: string;
  /** Copy the image's content at the destination into the volume when it is empty (not nocopy). */
  CopyData?: boolean;
  /** The client named the volume (`-v name:/p`, `--mount source=name`): rm -v keeps it. */
  Named?: boolean;
  /** --mount binds are never created on the host when missing (moby SkipMountpointCreation). */
  SkipCreate?: boolean;
  NonRecursive?: boolean;
  /** tmpfs mount data (`size=64m,mode=1777`), moby's ConvertTmpfsOptions. */
  Tmpfs?: string;
}
