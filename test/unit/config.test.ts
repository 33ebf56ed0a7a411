// Start-up configuration: every bad value stops start-up with a message naming where it came
// from and what is accepted; flags beat environment beat the file beat defaults.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/command.ts';
import { loadConfig, OPTIONS, parseDuration, parseRate } from '../../src/config.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const file = (text: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'vps-config-'));
  dirs.push(dir);
  const p = join(dir, 'config.yaml');
  writeFileSync(p, text);
  return p;
};

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig([], {});
    expect(c).toMatchObject({
      apiUrl: 'https://admin.vps.org/api/v1',
      workers: 8,
      apiRate: { requests: 10, perMs: 1000 },
      namespaces: [],
      leaderElect: false,
      logFormat: 'json',
    });
  });

  it('takes a flag over the environment over the file', () => {
    const p = file('workers: 3\napi-concurrency: 7\nlog-level: debug\n');
    const c = loadConfig(['--config', p, '--workers', '5'], {
      VPS_OPERATOR_WORKERS: '4',
      VPS_OPERATOR_API_CONCURRENCY: '6',
    });
    expect([c.workers, c.apiConcurrency, c.logLevel]).toEqual([5, 6, 'debug']);
  });

  it.each([
    [['--workers', '0'], 'invalid --workers "0": expected a whole number from 1 to 256'],
    [['--api-rate', 'fast'], 'invalid --api-rate "fast": expected a rate like 10/s, 600/m or 5/2s'],
    [
      ['--resync-period', '10'],
      'invalid --resync-period "10": expected a duration like 500ms, 10s, 5m or 1h',
    ],
    [['--api-url', 'ftp://x'], 'invalid --api-url "ftp://x": expected an http(s) URL'],
    [['--api-url', 'https://user:secret@x'], 'expected a URL without credentials'],
    [['--log-format', 'xml'], 'invalid --log-format "xml": expected one of json, pretty'],
    [['--default-credentials-secret', 'nope'], 'expected namespace/name or namespace/name:key of a Secret'],
    [['--metrics-bind-address', 'localhost'], 'expected host:port, :port, or 0 to disable'],
    [['--no-such-flag'], "Unknown option '--no-such-flag'"],
  ])('refuses %j naming the flag', (argv, message) => {
    expect(() => loadConfig(argv, {})).toThrow(UsageError);
    expect(() => loadConfig(argv, {})).toThrow(message);
  });

  it('names the environment variable a bad value came from', () => {
    expect(() => loadConfig([], { VPS_OPERATOR_WORKERS: 'many' })).toThrow(
      'invalid VPS_OPERATOR_WORKERS "many"',
    );
  });

  it('refuses an unknown key in the config file', () => {
    expect(() => loadConfig(['--config', file('wokers: 3\n')], {})).toThrow('unknown option "wokers"');
  });

  it('refuses a config file that is not a mapping', () => {
    expect(() => loadConfig(['--config', file('- a\n- b\n')], {})).toThrow('must be a YAML mapping');
  });

  it('refuses a missing config file', () => {
    expect(() => loadConfig(['--config', '/nonexistent/x.yaml'], {})).toThrow(
      'cannot read --config /nonexistent/x.yaml: ENOENT',
    );
  });

  it('reads a credentials Secret reference with and without a key', () => {
    expect(loadConfig(['--default-credentials-secret', 'ops/vps'], {}).defaultCredentialsSecret).toEqual({
      namespace: 'ops',
      name: 'vps',
      key: 'token',
    });
    expect(loadConfig(['--default-credentials-secret', 'ops/vps:api'], {}).defaultCredentialsSecret).toEqual({
      namespace: 'ops',
      name: 'vps',
      key: 'api',
    });
  });
});

describe('durations and rates', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1.5h', 5_400_000],
  ])('%s is %d ms', (raw, ms) => expect(parseDuration(raw)).toBe(ms));

  it.each([
    ['10/s', { requests: 10, perMs: 1000 }],
    ['600/m', { requests: 600, perMs: 60_000 }],
    ['5/2s', { requests: 5, perMs: 2000 }],
  ])('%s is %j', (raw, rate) => expect(parseRate(raw)).toEqual(rate));
});

describe('the README', () => {
  it('documents every option of the configuration table', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = OPTIONS.filter(
      (o) =>
        !readme.includes(`| \`--${o.flag}`) ||
        !readme.includes(`VPS_OPERATOR_${o.flag.toUpperCase().replaceAll('-', '_')}`),
    );
    expect(missing.map((o) => o.flag)).toEqual([]);
  });
});
