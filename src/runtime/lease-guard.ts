// "Do I still hold a fresh lease?", asked before every write a leader makes (to VPS.org and to
// Kubernetes). Lease-based election does not fence (kubernetes/kubernetes#44887): a leader that
// is paused (SIGSTOP, a frozen VM, a long GC) wakes up believing it leads, and its next write
// lands after a standby took over. A standby takes the lease only once it has seen no renewal
// for a whole leaseDuration, counted on its clock from when it saw the last one, which is after
// we sent it. So, measured on this process's own MONOTONIC clock from when the last successful
// renewal was *sent*, the lease is fresh for leaseDuration shortened by the clock-rate skew we
// tolerate and a margin (the elector's own renewDeadline, shorter still, is when it steps down
// on failed renewals; the guard is for the process that could not notice). A paused process wakes with its
// monotonic clock advanced by the pause, so the check fails before it writes anything. A clock
// that reads earlier than the renewal (it cannot, for a monotonic one) is not trusted either.

/** The inputs of the check, all in ms of one monotonic clock. */
export interface LeaseFreshness {
  /** When the last successful acquire/renew request was sent; undefined: never (or lost). */
  renewedAt: number | undefined;
  now: number;
  /** How long a standby waits without seeing a renewal before it takes the lease. */
  leaseDurationMs: number;
  /** Tolerated clock-rate difference between replicas, as a fraction (0.1 = 10 %). */
  maxClockRateSkew: number;
  /** Further safety margin taken off the end of the window. */
  marginMs: number;
}

/** Until when (monotonic ms) a lease renewed at `renewedAt` may be acted on. */
export const freshUntil = (f: Omit<LeaseFreshness, 'now' | 'renewedAt'> & { renewedAt: number }): number =>
  f.renewedAt + f.leaseDurationMs * (1 - f.maxClockRateSkew) - f.marginMs;

/** True while the lease may be acted on: renewed, not in the future, and within its window. */
export function leaseIsFresh(f: LeaseFreshness): boolean {
  if (f.renewedAt === undefined) return false;
  if (!Number.isFinite(f.now) || f.now < f.renewedAt) return false;
  return f.now < freshUntil({ ...f, renewedAt: f.renewedAt });
}

/** Thrown by a guarded write when this replica may no longer lead: nothing was sent. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/** The monotonic clock: performance.now() keeps counting while the process is stopped. */
export const monotonicNow = (): number => performance.now();
