// The provider's message and field errors read from every error body shape the client may meet.
import { describe, expect, it } from 'vitest';
import { MAX_PROVIDER_MESSAGE, readErrorBody } from '../../src/vpsorg/error-body.ts';

describe('readErrorBody', () => {
  it.each([
    [
      'DRF detail',
      '{"detail": "Authentication credentials were not provided."}',
      'Authentication credentials were not provided.',
    ],
    ['a message', '{"message": "Insufficient credits"}', 'Insufficient credits'],
    ['an error string', '{"error": "Server is already running"}', 'Server is already running'],
    [
      'an error object with a message',
      '{"error": {"code": 402, "message": "Insufficient credits"}}',
      'Insufficient credits',
    ],
    ['detail before message', '{"message": "second", "detail": "first"}', 'first'],
    ['a bare JSON string', '"Not found."', 'Not found.'],
    [
      'a JSON list of messages',
      '["Server is not running.", "Try again later."]',
      'Server is not running.; Try again later.',
    ],
    [
      'a headline with nested errors',
      '{"message": "Validation failed", "errors": {"name": ["Invalid name."]}}',
      'Validation failed: name: Invalid name.',
    ],
    ['a list of error objects', '{"errors": [{"message": "a"}, {"message": "b"}]}', 'a; b'],
    ['a number', '{"detail": 42}', '42'],
    ['plain text', 'upstream connect error', 'upstream connect error'],
    [
      'an HTML page, by its title',
      '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>',
      '502 Bad Gateway',
    ],
    [
      'an HTML page without a title, by its words',
      '<!DOCTYPE html><body><h1>Oops</h1>\n<p>Try later</p></body>',
      'Oops Try later',
    ],
    ['text over several lines, as one line', 'line one\n\n  line two', 'line one line two'],
    ['truncated JSON, as raw text', '{"detail": "Insuff', '{"detail": "Insuff'],
  ])('reads %s', (_, body, message) => {
    expect(readErrorBody(body).providerMessage).toBe(message);
  });

  it.each([
    ['an empty body', ''],
    ['whitespace', '  \n'],
    ['JSON null', 'null'],
    ['an empty object', '{}'],
    ['an empty detail', '{"detail": ""}'],
  ])('says nothing for %s', (_, body) => {
    expect(readErrorBody(body)).toEqual({});
  });

  it.each([
    [
      'DRF field errors',
      '{"name": ["Only letters, digits and hyphens."], "plan_id": ["Unknown plan 9."]}',
      'name: Only letters, digits and hyphens.; plan_id: Unknown plan 9.',
      { name: ['Only letters, digits and hyphens.'], plan_id: ['Unknown plan 9.'] },
    ],
    [
      'several messages for one field',
      '{"hostname": ["Not a FQDN.", "Too long."]}',
      'hostname: Not a FQDN.; hostname: Too long.',
      { hostname: ['Not a FQDN.', 'Too long.'] },
    ],
    [
      'nested serializers',
      '{"plan": {"id": ["Unknown plan."]}}',
      'plan.id: Unknown plan.',
      { 'plan.id': ['Unknown plan.'] },
    ],
    [
      'list serializers',
      '{"items": [{}, {"name": ["Required."]}]}',
      'items[1].name: Required.',
      { 'items[1].name': ['Required.'] },
    ],
    [
      'non-field errors, without a field name',
      '{"non_field_errors": ["Server is already running."]}',
      'Server is already running.',
      { non_field_errors: ['Server is already running.'] },
    ],
    ['a field with a bare string', '{"name": "Required."}', 'name: Required.', { name: ['Required.'] }],
  ])('reads %s with their field paths', (_, body, message, fieldErrors) => {
    expect(readErrorBody(body)).toEqual({ providerMessage: message, fieldErrors });
  });

  it('keeps at most 500 characters of a long body, marking the cut', () => {
    const message = readErrorBody('x'.repeat(10_000)).providerMessage ?? '';
    expect(message).toHaveLength(MAX_PROVIDER_MESSAGE);
    expect(message.endsWith('…')).toBe(true);
  });
});
