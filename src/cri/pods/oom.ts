// The infra container's oom_score_adj. containerd gives sandboxes -998 so that the OOM killer
// takes a pod's workload before its pause process; lowering a score below one's own needs
// CAP_SYS_RESOURCE, which berth may not have (runc then fails with "can't get final child's
// PID from pipe"). containerd's restrict_oom_score_adj does the same clamp.

export const SANDBOX_OOM_SCORE_ADJ = -998;

/** `wanted`, raised to the daemon's own score when the daemon cannot go below it. */
export function clampOomScoreAdj(wanted: number, own: number, canLower: boolean): number {
  if (canLower) return wanted;
  return Math.max(wanted, own);
}

/** Parses /proc/self/oom_score_adj and the effective capability mask of /proc/self/status. */
export function ownOomFacts(oomScoreAdjText: string, statusText: string): { own: number; canLower: boolean } {
  const own = Number.parseInt(oomScoreAdjText.trim(), 10);
  const m = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(statusText);
  // CAP_SYS_RESOURCE is bit 24
  const canLower = m ? (BigInt(`0x${m[1]}`) & (1n << 24n)) !== 0n : false;
  return { own: Number.isFinite(own) ? own : 0, canLower };
}
