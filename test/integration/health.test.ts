// The probe and metrics endpoints over real HTTP on ephemeral loopback ports.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type HttpEndpoints, parseBindAddress, startHttpEndpoints } from '../../src/health.ts';
import { createMetrics } from '../../src/metrics.ts';

let endpoints: HttpEndpoints | undefined;
afterEach(async () => {
  await endpoints?.close();
  endpoints = undefined;
});

describe('HTTP endpoints', () => {
  it('serve /healthz always and /readyz only once ready, and /metrics in Prometheus format', async () => {
    let ready = false;
    const metrics = createMetrics();
    metrics.workQueue('vpsserver').depth(1);
    endpoints = await startHttpEndpoints({
      metricsAddress: '127.0.0.1:0',
      healthAddress: '127.0.0.1:0',
      registry: metrics.registry,
      ready: () => (ready ? { ready: true } : { ready: false, reason: 'caches not synced' }),
      logger: pino({ level: 'silent' }),
    });
    const health = `http://127.0.0.1:${endpoints.healthPort}`;
    expect((await fetch(`${health}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${health}/readyz`);
    expect([notReady.status, await notReady.text()]).toEqual([503, 'not ready: caches not synced\n']);
    ready = true;
    expect((await fetch(`${health}/readyz`)).status).toBe(200);
    const scrape = await fetch(`http://127.0.0.1:${endpoints.metricsPort}/metrics`);
    expect(scrape.headers.get('content-type')).toContain('text/plain');
    const text = await scrape.text();
    expect(text).toContain('workqueue_depth{name="vpsserver"} 1');
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('refuses a port that is already in use, naming it', async () => {
    endpoints = await startHttpEndpoints({
      metricsAddress: '127.0.0.1:0',
      healthAddress: '0',
      registry: createMetrics().registry,
      ready: () => ({ ready: true }),
      logger: pino({ level: 'silent' }),
    });
    await expect(
      startHttpEndpoints({
        metricsAddress: `127.0.0.1:${endpoints.metricsPort}`,
        healthAddress: '0',
        registry: createMetrics().registry,
        ready: () => ({ ready: true }),
        logger: pino({ level: 'silent' }),
      }),
    ).rejects.toThrow(`port ${endpoints.metricsPort} is already in use`);
  });

  it.each([
    [':8080', { host: undefined, port: 8080 }],
    ['127.0.0.1:9', { host: '127.0.0.1', port: 9 }],
    ['[::1]:80', { host: '::1', port: 80 }],
    ['0', undefined],
  ])('parses bind address %s', (raw, want) => expect(parseBindAddress(raw)).toEqual(want));
});
