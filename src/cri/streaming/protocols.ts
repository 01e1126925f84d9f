// Sub-protocol negotiation on the SPDY upgrade (apimachinery's httpstream Handshake): the client
// lists what it speaks in X-Stream-Protocol-Version headers, best first; the server takes the
// first it supports and must echo it in the 101, or the client falls back to v1 semantics.

export const PROTOCOL_HEADER = 'X-Stream-Protocol-Version';
export const ACCEPTED_HEADER = 'X-Accepted-Stream-Protocol-Versions';

/** exec and attach: v4 carries the exit code as a Status on the error stream. */
export const REMOTE_COMMAND_V4 = 'v4.channel.k8s.io';
export const PORT_FORWARD_V1 = 'portforward.k8s.io';

export type Negotiation = { ok: true; protocol: string } | { ok: false; status: 400 | 403; message: string };

/** Node gives repeated headers joined by ", "; Go clients send one header per value. */
export function offeredProtocols(raw: string | string[] | undefined): string[] {
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

export function negotiate(offered: string[], supported: readonly string[]): Negotiation {
  if (offered.length === 0) return { ok: false, status: 400, message: `missing ${PROTOCOL_HEADER} header` };
  const chosen = offered.find((p) => supported.includes(p));
  if (!chosen) return { ok: false, status: 403, message: `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server accepts ${JSON.stringify(supported)}` };
  return { ok: true, protocol: chosen };
}
