// Garbled replies: each way of breaking a provider reply, as the client will receive it.
import { describe, expect, it } from 'vitest';
import { GARBLES, garbleReply, UNKNOWN_STATE } from '../../src/simulator/garble.ts';
import { jsonReply, serializeReply } from '../../src/simulator/reply.ts';

const detail = jsonReply(200, { id: 7, name: 'web', status: 'active', plan: { id: 1, vcpus: 2 } });
const wire = (garble: (typeof GARBLES)[number]) => serializeReply(garbleReply(detail, garble));

describe('garbleReply', () => {
  it('sends an HTML page instead of JSON for notJson', () => {
    expect(wire('notJson')).toMatchObject({
      contentType: 'text/html',
      body: expect.stringContaining('<html>'),
    });
  });

  it('cuts the JSON in half for truncated, so it no longer parses', () => {
    const { body, contentType } = wire('truncated');
    expect(contentType).toBe('application/json');
    expect(JSON.stringify(detail.json).startsWith(body)).toBe(true);
    expect(() => JSON.parse(body)).toThrow();
  });

  it('sends every number as a string for wrongTypes', () => {
    expect(JSON.parse(wire('wrongTypes').body)).toEqual({
      id: '7',
      name: 'web',
      status: 'active',
      plan: { id: '1', vcpus: '2' },
    });
  });

  it('reports every server state as one the contract does not name for unknownState', () => {
    expect(JSON.parse(wire('unknownState').body)).toMatchObject({ status: UNKNOWN_STATE, name: 'web' });
  });

  it('keeps the status and sends no body for emptyBody', () => {
    expect(garbleReply(detail, 'emptyBody').status).toBe(200);
    expect(wire('emptyBody').body).toBe('');
  });

  it('leaves a reply without a JSON body alone', () => {
    const noContent = { status: 204 };
    for (const garble of GARBLES) expect(garbleReply(noContent, garble)).toBe(noContent);
  });
});
