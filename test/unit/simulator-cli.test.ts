// `vps-operator simulator` as a process: bad flags and config exit 2 naming what is wrong, the
// help lists every flag, and a real run serves requests, logs one line per request without the
// token, and shuts down cleanly on SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const TOKEN = 'tok-cli-4e8f2a';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function start(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [CLI, 'simulator', ...args], {
    env: { ...process.env, VPS_SIM_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => {
    out.stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    out.stderr += chunk.toString();
  });
  const exited = new Promise<Exit>((resolve) => child.on('close', (code) => resolve({ code, ...out })));
  return { child, out, exited };
}

const run = (args: string[], env?: Record<string, string>) => start(args, env).exited;

describe('vps-operator simulator (CLI)', () => {
  it.each([
    [['--token', 't', '--rate-limit', 'nonsense'], '--rate-limit: expected a rate like 10/s, 600/m or 5/2s'],
    [['--token', 't', '--time-scale', '0'], '--time-scale: expected a number > 0'],
    [['--token', 't', '--port', 'http'], '--port: expected an integer from 0 to 65535'],
    [['--token', 't', '--fault-rate', '1.5'], '--fault-rate: expected a number from 0 to 1'],
    [['--token', 't', '--garble-rate', 'x'], '--garble-rate: expected a number from 0 to 1'],
    [['--token', 't', '--fault-endpoints', 'create,destroy'], '--fault-endpoints: expected one of list'],
    [
      ['--token', 't', '--provisioning-seconds', '5-1'],
      '--provisioning-seconds: expected a number of seconds',
    ],
    [['--token', 't', '--frobnicate'], "Unknown option '--frobnicate'"],
    [[], 'no API token: pass --token <t>, set VPS_SIM_TOKEN'],
  ])('exits 2 for %j, naming the flag', async (args, message) => {
    const { code, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it('exits 2 for a bad config file value, naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-cli-'));
    const config = join(dir, 'sim.yaml');
    await writeFile(config, 'accounts:\n  - {name: a, token: t, credits: lots}\n');
    const { code, stderr } = await run(['--config', config]);
    expect(code).toBe(2);
    expect(stderr).toContain('accounts[0].credits: expected a number ≥ 0');
  });

  it('lists every flag with its default in --help', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const flag of [
      '--port',
      '--token',
      '--time-scale',
      '--rate-limit',
      '--config',
      '--inspect',
      '--fault-rate',
      '--hang-rate',
      '--garble-rate',
    ]) {
      expect(stdout).toContain(flag);
    }
    expect(stdout).toContain('VPS_SIM_TOKEN');
    expect(stdout).toContain('Examples:');
  });

  it('serves the API, logs each request without the token, and exits 0 on SIGTERM', async () => {
    const sim = start(['--port', '0', '--time-scale', '600', '--inspect'], { VPS_SIM_TOKEN: TOKEN });
    const url = await new Promise<string>((resolve, reject) => {
      sim.child.stdout?.on('data', () => {
        const match = /"apiBaseUrl":"([^"]+)"/.exec(sim.out.stdout);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      sim.child.on('close', () => reject(new Error(`exited early: ${sim.out.stderr}`)));
    });
    const answer = await fetch(`${url}/servers/`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(answer.status).toBe(200);
    expect((await fetch(`${url}/servers/`, { headers: { Authorization: 'Bearer nope' } })).status).toBe(401);
    sim.child.kill('SIGTERM');
    const { code, stdout, stderr } = await sim.exited;
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((l) => l.msg === 'request').map((l) => [l.method, l.path, l.status])).toEqual([
      ['GET', '/api/v1/servers/', 200],
      ['GET', '/api/v1/servers/', 401],
    ]);
    expect(lines.find((l) => l.msg === 'request')).toHaveProperty('durationMs');
    expect(stdout + stderr).not.toContain(TOKEN);
  });
});
