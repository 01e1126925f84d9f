// How token-server refusals and registry 401s are worded: moby's client.HandleErrorResponse
// (a bearer challenge's error first, then the body; {"details"} as Docker Hub sends it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorFromResponse, tokenFetchError } from '../../src/images/distribution/registry-client.js';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

describe('token server refusals', () => {
  it('words them as moby does, and only a single unauthorized is a 401 to login', async () => {
    const cases: [Response, string, boolean][] = [
      [json(401, { details: 'incorrect username or password' }), 'unauthorized: incorrect username or password', true],
      [json(403, { details: 'no' }), 'denied: no', false],
      [json(401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad' }] }), 'unauthorized: bad', true],
      [json(401, { errors: [{ code: 'UNAUTHORIZED', message: 'a' }, { code: 'DENIED', message: 'b' }] }), 'errors:\nunauthorized: a\ndenied: b\n', false],
      [json(401, {}), 'unauthorized: authentication required', true],
      [json(400, { error: 'invalid_grant' }), 'error parsing HTTP 400 response body: no error details found in HTTP response body: "{\\"error\\":\\"invalid_grant\\"}"', false],
      [new Response('go away', { status: 401, headers: { 'Content-Type': 'text/plain' } }), 'unauthorized: go away', true],
      [new Response('', { status: 503, statusText: 'Service Unavailable' }), 'received unexpected HTTP status: 503 Service Unavailable', false],
    ];
    for (const [res, message, unauthorized] of cases) {
      const err = await tokenFetchError(res);
      assert.deepEqual([err.message, err.unauthorized], [message, unauthorized]);
    }
  });

  it('puts a bearer challenge\'s insufficient_scope before the body, as the error that decides', async () => {
    const res = json(401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, {
      'WWW-Authenticate': 'Bearer realm="http://t/token",service="s",scope="repository:x:pull",error="insufficient_scope"',
    });
    const err = await errorFromResponse(res);
    assert.deepEqual(err.codes, ['DENIED', 'UNAUTHORIZED']);
    assert.equal(err.firstMessage, 'denied: requested access to the resource is denied');
  });
});
