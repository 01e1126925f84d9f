// The kernel's clock ticks per second, for /proc/<pid>/stat's CPU times. Linux has exported
// USER_HZ = 100 to user space on every architecture since 2.6; getconf confirms it when present.
import { execFileSync } from 'node:child_process';

let ticks: number | undefined;

export function clkTck(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}
