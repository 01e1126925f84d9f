export { readLogs, type LogEntry, type ReadLogsOptions } from './read-logs.js';
export { parseLogTime, formatRfc3339NanoFixed } from './log-time.js';
export type { LogStream } from './k8s-file-line.js';
