// Create, PUT and PATCH bodies: the DRF-style field errors for every kind of bad input.
import { describe, expect, it } from 'vitest';
import { buildCatalogue } from '../../src/simulator/catalogue.ts';
import { MESSAGES, validateCreate, validateUpdate } from '../../src/simulator/validation.ts';

const catalogue = buildCatalogue();
const valid = { name: 'web-01', plan_id: 1, os_id: 5, location: 'us-west' };
const createErrors = (body: unknown) => {
  const result = validateCreate(body, catalogue);
  return result.ok ? {} : result.errors;
};

describe('validateCreate', () => {
  it('accepts the documented example and defaults the optional fields', () => {
    expect(validateCreate(valid, catalogue)).toEqual({
      ok: true,
      value: {
        name: 'web-01',
        planId: 1,
        osId: 5,
        location: 'us-west',
        hostname: null,
        sshKeyId: null,
        backupsEnabled: false,
      },
    });
  });

  it('names every missing required field', () => {
    expect(createErrors({})).toEqual({
      name: [MESSAGES.required],
      plan_id: [MESSAGES.required],
      os_id: [MESSAGES.required],
      location: [MESSAGES.required],
    });
  });

  it.each([
    ['a space', 'web 01', MESSAGES.name],
    ['an underscore', 'web_01', MESSAGES.name],
    ['64 characters', 'a'.repeat(64), MESSAGES.maxLength(63)],
    ['nothing', '', MESSAGES.blank],
    ['a number instead of a string', 42, MESSAGES.string],
    ['null', null, MESSAGES.notNull],
  ])('refuses a name with %s', (_, name, message) => {
    expect(createErrors({ ...valid, name })).toEqual({ name: [message] });
  });

  it('accepts a name of letters, digits and hyphens up to 63 characters', () => {
    expect(createErrors({ ...valid, name: `Web-01-${'x'.repeat(56)}` })).toEqual({});
  });

  it.each([
    'web01',
    'web01.',
    '-web.example.com',
    'web..example.com',
    'web.example.123',
    'web_01.example.com',
  ])('refuses the hostname %j as not a FQDN', (hostname) => {
    expect(createErrors({ ...valid, hostname })).toEqual({ hostname: [MESSAGES.hostname] });
  });

  it('accepts a FQDN hostname', () => {
    expect(createErrors({ ...valid, hostname: 'web01.eu-1.example.com' })).toEqual({});
  });

  it.each([
    ['plan_id', 99, MESSAGES.unknownPk(99)],
    ['os_id', 4, MESSAGES.unknownPk(4)],
    ['location', 'mars', MESSAGES.choice('mars')],
  ])('refuses an unknown %s', (field, value, message) => {
    expect(createErrors({ ...valid, [field]: value })).toEqual({ [field]: [message] });
  });

  it.each([
    ['plan_id', '1', MESSAGES.integer],
    ['plan_id', 1.5, MESSAGES.integer],
    ['os_id', true, MESSAGES.integer],
    ['location', 7, MESSAGES.string],
    ['hostname', 7, MESSAGES.string],
    ['ssh_key_id', 'key', MESSAGES.integer],
    ['ssh_key_id', 0, MESSAGES.minValue(1)],
    ['backups_enabled', 'yes', MESSAGES.boolean],
  ])('refuses %s of the wrong type or range (%j)', (field, value, message) => {
    expect(createErrors({ ...valid, [field]: value })).toEqual({ [field]: [message] });
  });

  it('takes null optional fields as not given', () => {
    const result = validateCreate(
      { ...valid, hostname: null, ssh_key_id: null, backups_enabled: null },
      catalogue,
    );
    expect(result).toMatchObject({
      ok: true,
      value: { hostname: null, sshKeyId: null, backupsEnabled: false },
    });
  });

  it('refuses a body that is not a JSON object, naming what it got', () => {
    expect(createErrors([valid])).toEqual({ non_field_errors: [MESSAGES.notADictionary('list')] });
  });

  it('ignores fields it does not know', () => {
    expect(createErrors({ ...valid, status: 'active' })).toEqual({});
  });
});

describe('validateUpdate', () => {
  it('requires name, hostname and backups_enabled for PUT', () => {
    expect(validateUpdate({ name: 'web-02' }, 'put')).toEqual({
      ok: false,
      errors: { hostname: [MESSAGES.required], backups_enabled: [MESSAGES.required] },
    });
  });

  it('accepts any subset for PATCH', () => {
    expect(validateUpdate({ backups_enabled: true }, 'patch')).toEqual({
      ok: true,
      value: { backupsEnabled: true },
    });
    expect(validateUpdate({}, 'patch')).toEqual({ ok: true, value: {} });
  });

  it('validates PATCH fields like PUT fields', () => {
    expect(validateUpdate({ name: 'bad name', hostname: 'nope' }, 'patch')).toEqual({
      ok: false,
      errors: { name: [MESSAGES.name], hostname: [MESSAGES.hostname] },
    });
  });

  it('refuses to clear the hostname with null', () => {
    expect(validateUpdate({ hostname: null }, 'patch')).toEqual({
      ok: false,
      errors: { hostname: [MESSAGES.notNull] },
    });
  });
});
