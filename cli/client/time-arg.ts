// The docker CLI turns --since/--until values into the API's <unix-seconds>[.<nanos>] client-side:
// a unix timestamp passes through, a Go duration (10m, 1h30m) counts back from now, and anything
// else is read as a date (RFC3339 and friends).

const GO_DURATION = /^(\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function toApiTimestamp(value: string, nowMs = Date.now()): string {
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  if (GO_DURATION.test(value)) {
    let ms = 0;
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    return formatSeconds(nowMs - ms);
  }
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new Error(`invalid value for time: ${JSON.stringify(value)}`);
  return formatSeconds(parsed);
}

function formatSeconds(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const nanos = Math.round((ms - whole * 1000) * 1e6);
  return `${whole}.${String(nanos).padStart(9, '0')}`;
}
