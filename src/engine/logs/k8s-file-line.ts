// One line of conmon's k8s-file log: `<timestamp> <stdout|stderr> <P|F> <bytes>\n`.
// conmon (src/ctr_logging.c write_k8s_log) splits output at every newline and writes the newline
// as the line's own terminator for F chunks; for P chunks (no newline in the read, or a read cut
// at its 8 KiB buffer) it appends a newline that the container never wrote.
import { formatRfc3339NanoFixed, parseK8sTimestamp } from './log-time.js';

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

const DASH = 0x2d;
const T = 0x54;
const STDOUT = Buffer.from('stdout');
const STDERR = Buffer.from('stderr');

/** Whether line[at..] starts with `word`, by bytes: Buffer.compare's argument checks cost more per line. */
function bytesAt(line: Buffer, at: number, word: Buffer): boolean {
  for (let i = 0; i < word.length; i++) if (line[at + i] !== word[i]) return false;
  return true;
}

/**
 * One parsed line. The timestamp is parsed (to nanoseconds) only when asked for: reading back a
 * large log without --timestamps/--since/--until never pays for it.
 */
export class K8sLogEntry implements K8sLogLine {
  private ns: bigint | undefined;
  constructor(
    readonly stream: LogStream,
    readonly partial: boolean,
    readonly data: Buffer,
    /** The whole line: its timestamp is line[0..stampEnd). */
    private readonly line: Buffer,
    private readonly stampEnd: number,
  ) {}

  get timeNs(): bigint {
    this.ns ??= parseK8sTimestamp(this.line.toString('latin1', 0, this.stampEnd)) ?? 0n;
    return this.ns;
  }

  /** RFC3339Nano UTC with 9 fractional digits, as `docker logs -t` prints it. */
  get time(): string {
    // A stamp conmon wrote in UTC is that already but for its zone: `docker logs -t` of a big
    // log spends most of its time in the full parse and format otherwise.
    if (this.stampEnd === UTC_STAMP.length && isUtcStamp(this.line)) return `${this.line.toString('latin1', 0, UTC_FRACTION_END)}Z`;
    return formatRfc3339NanoFixed(this.timeNs);
  }
}

// conmon's stamp in UTC: 9 fractional digits (it always writes 9) and the zone +00:00.
const UTC_STAMP = '0000-00-00T00:00:00.000000000+00:00';
const UTC_FRACTION_END = UTC_STAMP.indexOf('+');
const ZERO = 0x30;
const NINE = 0x39;

/** Whether `line` starts with a stamp of UTC_STAMP's shape: digits where it has zeros, the rest as is. */
function isUtcStamp(line: Buffer): boolean {
  for (let i = 0; i < UTC_STAMP.length; i++) {
    const want = UTC_STAMP.charCodeAt(i);
    const got = line[i]!;
    if (want === ZERO && i < UTC_FRACTION_END ? got < ZERO || got > NINE : got !== want) return false;
  }
  return true;
}

/** Parses one complete line, which must end with its newline; undefined for lines that are not log lines. */
export function parseK8sLine(line: Buffer): K8sLogEntry | undefined {
  const sp1 = line.indexOf(SPACE);
  // RFC 3339 shape (2026-11-28T...) checked by bytes; the full parse waits for timeNs.
  if (sp1 < 20 || line[4] !== DASH || line[7] !== DASH || line[10] !== T) return undefined;
  const sp2 = sp1 + 7;
  if (line[sp2] !== SPACE) return undefined;
  const stream: LogStream | undefined = bytesAt(line, sp1 + 1, STDOUT) ? 'stdout' : bytesAt(line, sp1 + 1, STDERR) ? 'stderr' : undefined;
  if (!stream) return undefined;
  const tag = line[sp2 + 1];
  if (tag !== TAG_PARTIAL && tag !== TAG_FULL) return undefined;
  const end = line.length;
  // A conforming line always has a space after the tag; tolerate a bare tag before the newline.
  const dataStart = Math.min(line[sp2 + 2] === SPACE ? sp2 + 3 : sp2 + 2, end - 1);
  const partial = tag === TAG_PARTIAL;
  // The newline that ends an F line is the container's own; the one after a P line is conmon's.
  const data = partial ? line.subarray(dataStart, end - 1) : line.subarray(dataStart, end);
  return new K8sLogEntry(stream, partial, data, line, sp1);
}
