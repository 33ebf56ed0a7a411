// The operator as users run it: `node src/cli/main.ts …` as a child process, its output collected
// line by line, so tests can kill it with SIGKILL at any moment, restart it and read what it
// logged. Shared by the process tests and the reliability suite; reap() kills what is left.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname;

export interface OperatorProcess {
  child: ChildProcess;
  /** Every line written to stdout and stderr, in order. */
  lines: string[];
  /** The exit code, or null when killed by a signal. */
  exited: Promise<number | null>;
  /** True until the process has exited. */
  running(): boolean;
  /** Resolves with the first log line (parsed JSON) containing `msg`. */
  logged(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGKILL, as `kill -9`, and waits for the exit. */
  kill(): Promise<void>;
  /** SIGSTOP: the process freezes where it is, as a frozen VM or a long GC pause would. */
  pause(): void;
  /** SIGCONT: a paused process carries on from where it stopped. */
  resume(): void;
  /** True while the process is stopped (by pause() or by stopping itself at a crash point). */
  stopped(): boolean;
}

const live = new Set<OperatorProcess>();

/** Starts `node src/cli/main.ts ...args` with extra environment variables; KUBECONFIG is cleared. */
export function startOperatorProcess(args: string[], env: Record<string, string> = {}): OperatorProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env, KUBECONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer) => {
    const parts = (partial + String(chunk)).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l !== ''));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = once(child, 'exit').then(([code]) => {
    if (partial !== '') lines.push(partial);
    live.delete(proc);
    return code as number | null;
  });
  const proc: OperatorProcess = {
    child,
    lines,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    async logged(msg, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const line = lines.find((l) => l.includes(msg));
        if (line !== undefined) {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            return { line };
          }
        }
        if (!proc.running()) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      // Say whether it died or was only slow: under load, loading src/ and client-node before the
      // first log line took over 30 s once, which read like a crash.
      const how = proc.running()
        ? `still running after ${timeoutMs} ms`
        : `exited (code ${child.exitCode}, signal ${child.signalCode})`;
      throw new Error(`no "${msg}" in the operator's output (${how}):\n${lines.slice(-30).join('\n')}`);
    },
    async kill() {
      if (proc.running()) child.kill('SIGKILL');
      await exited;
    },
    pause() {
      if (proc.running()) child.kill('SIGSTOP');
    },
    resume() {
      if (proc.running()) child.kill('SIGCONT');
    },
    stopped() {
      if (!proc.running() || child.pid === undefined) return false;
      try {
        // /proc/<pid>/stat: "pid (comm) S …"; T is stopped by a signal.
        const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
      } catch {
        return false;
      }
    },
  };
  live.add(proc);
  return proc;
}

/** Kills every operator process still running (afterEach / afterAll). */
export async function reapOperatorProcesses(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()));
}
