// Named points in the reconcile path where the reliability suite (test/chaos) can make the
// operator die on the spot, as a kill -9 would, to prove that no crash between two writes can
// duplicate or leak a server. Off unless armed, never in production:
// - VPS_OPERATOR_CRASH_POINTS="after-create:0.3,before-status:0.1" (point:probability), read once;
// - VPS_OPERATOR_CRASH_POINTS_FILE=/path, a file holding the same text, read at every point, so
//   a test can arm a running operator at the moment a phase begins without restarting it.
// A third field `pause` (e.g. "after-create:1:pause") makes the operator SIGSTOP itself there
// instead, as a frozen VM or a long GC would: it carries on from that very point once the test
// sends SIGCONT, which is how the fencing trials wake a leader whose lease has moved on.
import { readFileSync } from 'node:fs';
import process from 'node:process';

export const CRASH_POINTS = [
  /** create-pending marker written, POST not yet sent */
  'before-create',
  /** POST answered 201, server id not yet in status */
  'after-create',
  /** reboot-pending marker written, POST not yet sent */
  'before-reboot',
  /** reboot accepted, not yet recorded in status */
  'after-reboot',
  /** DELETE answered, finalizer not yet removed */
  'after-delete',
  /** any provider write answered, status not yet written */
  'before-status',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

const fromEnv = parse(process.env.VPS_OPERATOR_CRASH_POINTS);
const armingFile = process.env.VPS_OPERATOR_CRASH_POINTS_FILE;

interface Armed {
  probability: number;
  how: 'kill' | 'pause';
}

function parse(spec: string | undefined): Map<string, Armed> {
  const points = new Map<string, Armed>();
  for (const part of (spec ?? '').split(',').filter((p) => p.trim() !== '')) {
    const [name = '', p = '1', how = 'kill'] = part.trim().split(':');
    if ((CRASH_POINTS as readonly string[]).includes(name))
      points.set(name, { probability: Number(p), how: how === 'pause' ? 'pause' : 'kill' });
  }
  return points;
}

function armed(): Map<string, Armed> {
  if (armingFile === undefined) return fromEnv;
  try {
    return parse(readFileSync(armingFile, 'utf8'));
  } catch {
    return fromEnv;
  }
}

/** Dies here (SIGKILL, no cleanup), or stops here (SIGSTOP), with the configured probability. */
export function crashPoint(point: CrashPoint): void {
  if (fromEnv.size === 0 && armingFile === undefined) return;
  const a = armed().get(point);
  if (a === undefined || Math.random() >= a.probability) return;
  if (a.how === 'pause') {
    // stderr to a pipe is synchronous on Linux: the line is out before the process stops.
    process.stderr.write(`crash point ${point}: pausing the operator\n`);
    process.kill(process.pid, 'SIGSTOP');
    return;
  }
  process.stderr.write(`crash point ${point}: killing the operator\n`);
  process.kill(process.pid, 'SIGKILL');
}
