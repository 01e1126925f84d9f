// The 5xx answers a fuzz run may get that are right: dockerd answers the same request with a
// 5xx too (its handler returns an untyped error, which moby's errdefs maps to 500), or the
// failure is a real one of the machine. Each rule says why. Any other 5xx is a bug to fix where
// the request is decoded or checked.
import type { FuzzRequest } from './generators.js';

const path = (req: FuzzRequest) => req.path.replace(/^\/v[\d.]*x?(?=\/)/, '').split('?')[0];

const RULES: { why: string; test(req: FuzzRequest, status: number, message: string): boolean }[] = [
  {
    why: "moby's postAuth returns json.Decoder's error untyped (500): a body of the wrong shape or an empty one (EOF)",
    test: (req, status, message) => status === 500 && path(req) === '/auth' && (/^json: |^EOF$|^unexpected EOF$|^invalid character /.test(message)),
  },
  {
    why: 'no registry answers here (no DNS, no network): moby returns the dial error untyped (500) for login, search and pull',
    test: (req, status, message) => status === 500 && ['/auth', '/images/search', '/images/create'].includes(path(req)) && /dial tcp|no such host|connection refused|i\/o timeout|network is unreachable/.test(message),
  },
  {
    why: "moby's ContainerExecCreate returns fmt.Errorf(\"Invalid escape keys (%s) provided\") untyped (500)",
    test: (req, status, message) => status === 500 && /\/exec$/.test(path(req)) && /^Invalid escape keys \(/.test(message),
  },
  {
    why: "ps refusing its arguments: moby's ContainerTop returns errdefs.System(ps's first stderr line) (500)",
    test: (req, status, message) => status === 500 && /\/top$/.test(path(req)) && /^ps: /.test(message),
  },
  {
    why: "moby's ContainerExecResize gives up after 10 s on an exec never started: errors.New(\"timeout waiting for exec session ready\") (500)",
    test: (req, status, message) => status === 500 && /^\/exec\/[^/]+\/resize$/.test(path(req)) && message === 'timeout waiting for exec session ready',
  },
  {
    why: "a corrupt archive on load: moby's postImagesLoad answers errdefs.GetHTTPErrorStatusCode of the untar error (untyped: 500)",
    test: (req, status, message) => status === 500 && path(req) === '/images/load' && /tar|Unexpected end of data|unexpected EOF|gzip|header/i.test(message),
  },
  {
    why: 'berth does not import from a URL (fromSrc other than -): 501 Not Implemented, a documented limit',
    test: (req, status) => status === 501 && path(req) === '/images/create' && /fromSrc=(?!-(&|$))/.test(req.path),
  },
  {
    why: "a volume name too long for a file name: moby's local driver returns the mkdir error untyped (500)",
    test: (req, status, message) => status === 500 && path(req) === '/volumes/create' && /^create .{200,}/.test(message),
  },
  {
    why: "update racing a removal: moby's errCannotUpdate wraps \"container is marked for removal\" untyped (500)",
    test: (req, status, message) => status === 500 && /\/update$/.test(path(req)) && /^Cannot update container [0-9a-f]{64}: container is marked for removal/.test(message),
  },
  {
    why: 'this VM cannot start --privileged containers (runc lacks CAP_SYS_RESOURCE); dockerd answers 500 for an OCI runtime failure too',
    test: (req, status, message) => status === 500 && /OCI runtime|runc/.test(message) && /"Privileged":true/.test(JSON.stringify(req.body ?? '')),
  },
];

export function explain5xx(req: FuzzRequest, status: number, message: string): string | undefined {
  return RULES.find((r) => r.test(req, status, message))?.why;
}
