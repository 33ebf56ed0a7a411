// reuseConnections: every request authenticated by one KubeConfig gets the same undici Agent
// (client-node alone makes a new one, so a new TLS connection, per request).
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { reuseConnections } from '../../src/k8s/kubeconfig.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function kubeConfig(token: string, ca = 'fake-ca'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: b64(ca) }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function dispatcherOf(kc: KubeConfig): Promise<unknown> {
  const context = new RequestContext('https://127.0.0.1:6443/api/v1/namespaces', HttpMethod.GET);
  await kc.applySecurityAuthentication(context);
  return context.getDispatcher();
}

describe('reuseConnections', () => {
  it('client-node alone makes a new Agent per request (why this exists)', async () => {
    const kc = kubeConfig('t');
    expect(await dispatcherOf(kc)).not.toBe(await dispatcherOf(kc));
  });

  it('gives every request of one KubeConfig the same Agent, and is idempotent', async () => {
    const kc = reuseConnections(reuseConnections(kubeConfig('t')));
    const first = await dispatcherOf(kc);
    expect(first).toBeDefined();
    expect(await dispatcherOf(kc)).toBe(first);
  });

  it('keeps the token per request (it is a header, not part of the connection)', async () => {
    const kc = reuseConnections(kubeConfig('secret-1'));
    const context = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
    await kc.applySecurityAuthentication(context);
    expect(context.getHeaders().Authorization).toBe('Bearer secret-1');
  });
});
