// The load harness's API client: raw HTTP over the daemon's unix socket, one connection per
// request as the docker CLI makes them, the whole body read. Never throws for an HTTP status;
// a transport failure (reset, timeout) is status 0 with the error's message as the text.
import { request as httpRequest } from 'node:http';

export interface Answer {
  status: number;
  text: string;
}

export function call(socketPath: string, method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<Answer> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    let payload: Buffer | undefined;
    if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body));
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    let settled = false;
    const done = (a: Answer) => {
      if (!settled) {
        settled = true;
        resolve(a);
      }
    };
    const req = httpRequest({ socketPath, method, path, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', (e) => done({ status: 0, text: `response broke off: ${e.message}` }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => done({ status: 0, text: e.message }));
    req.end(payload);
  });
}

/** The error line of a JSON-lines progress stream (pull), if any. */
export function streamError(text: string): string | undefined {
  for (const line of text.split('\n')) {
    if (!line.includes('"error')) continue;
    try {
      const m = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
      if (m.error || m.errorDetail) return m.error ?? m.errorDetail?.message;
    } catch {
      return line;
    }
  }
  return undefined;
}
