// Requests a fuzz run answered wrongly, kept so that every run (the short one in `npm test`
// too) sends them first; a 5xx among them fails the run. Each says what was wrong before its fix.
import type { FuzzRequest } from './generators.js';

export const REGRESSIONS: FuzzRequest[] = [
  // a repeated query key reached string code as an array: 500 "x.startsWith is not a function"
  // (fixed in src/api/query-parser.ts: the first value, as Go's r.Form.Get)
  { op: 'containerArchiveInfo', method: 'HEAD', path: '/containers/fz-running/archive?path=%2Fetc&path=%2Fbin' },
  { op: 'containerArchive', method: 'GET', path: '/containers/fz-running/archive?path=%2Fetc%2Fhostname&path=%ZZ' },
  { op: 'putContainerArchive', method: 'PUT', path: '/containers/fz-created/archive?path=%2Ftmp&path=%2F', body: { fixture: 'tar-file' } },
  { op: 'containerRename', method: 'POST', path: '/containers/fz-created/rename?name=fz-created&name=fz-other' },
  { op: 'containerTop', method: 'GET', path: '/containers/fz-running/top?ps_args=-ef&ps_args=aux' },
  { op: 'containerKill', method: 'POST', path: '/containers/fz-running/kill?signal=SIGWINCH&signal=KILL' },
  { op: 'imageCreate', method: 'POST', path: '/images/create?fromImage=nosuch&tag=1&tag=2&repo=a&repo=b' },
];
