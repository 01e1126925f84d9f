// One line of conmon's k8s-file log: `<timestamp> <stdout|stderr> <P|F> <bytes>\n`.
// conmon (src/ctr_logging.c write_k8s_log) splits output at every newline and writes the newline
// as the line's own terminator for F chunks; for P chunks (no newline in the read, or a read cut
// at its 8 KiB buffer) it appends a newline that the container never wrote.
import { parseK8sTimestamp } from './log-time.js';

export type LogStream = 'stdout' | 'stderr';

export interface K8sLogLine {
  stream: LogStream;
  timeNs: bigint;
  partial: boolean;
  /** The container's bytes; for F lines this includes the trailing newline. */
  data: Buffer;
}

const SPACE = 0x20;
const TAG_PARTIAL = 0x50; // 'P'
const TAG_FULL = 0x46; // 'F'

export interface K8sLineHeader {
  stream: string;
  partial: boolean;
  /** Offset of the first byte of data within the line. */
  dataStart: number;
  timestamp: string;
}

/** Parses the header of one line (the line may be cut short after the header). */
export function parseK8sHeader(line: Buffer): K8sLineHeader | undefined {
  const sp1 = line.indexOf(SPACE);
  if (sp1 <= 0) return undefined;
  const sp2 = line.indexOf(SPACE, sp1 + 1);
  if (sp2 < 0) return undefined;
  const tag = line[sp2 + 1];
  if (tag !== TAG_PARTIAL && tag !== TAG_FULL) return undefined;
  const after = line[sp2 + 2];
  // A conforming line always has a space after the tag; tolerate a bare tag before the newline.
  const dataStart = after === SPACE ? sp2 + 3 : sp2 + 2;
  return {
    stream: line.toString('latin1', sp1 + 1, sp2),
    partial: tag === TAG_PARTIAL,
    dataStart,
    timestamp: line.toString('latin1', 0, sp1),
  };
}

/** Parses one complete line, which must end with its newline; undefined for lines that are not log lines. */
export function parseK8sLine(line: Buffer): K8sLogLine | undefined {
  const header = parseK8sHeader(line);
  if (!header) return undefined;
  if (header.stream !== 'stdout' && header.stream !== 'stderr') return undefined;
  const timeNs = parseK8sTimestamp(header.timestamp);
  if (timeNs === undefined) return undefined;
  const end = line.length;
  const dataStart = Math.min(header.dataStart, end - 1);
  // The newline that ends an F line is the container's own; the one after a P line is conmon's.
  const data = header.partial ? line.subarray(dataStart, end - 1) : line.subarray(dataStart, end);
  return { stream: header.stream, timeNs, partial: header.partial, data };
}
