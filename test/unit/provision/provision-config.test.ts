// provision.json as the Job reads it: what the chart writes is accepted, anything else is refused naming the field.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readProvisionConfig } from '../../../src/provision/provision-config';
import { checkLoginSpecs } from '../../../src/provision/provision-roles';
import { ConfigError } from '../../../src/migrate/errors';

const dir = mkdtempSync(path.join(tmpdir(), 'caracal-provision-config-'));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};
const login = {
  loginRole: 'caracal_dev_api',
  groupRole: 'caracal_api',
  passwordFile: '/var/run/secrets/caracal/logins/caracal_dev_api/password',
  settings: { statement_timeout: '30000' },
};

describe('readProvisionConfig', () => {
  test('GIVEN the config the chart writes WHEN read THEN the logins come back as written', () => {
    const f = file('ok.json', JSON.stringify({ version: 1, logins: [login] }));
    expect(readProvisionConfig(f).logins).toEqual([login]);
  });

  test.each([
    ['not JSON', '{ version: 1', /is not valid JSON/],
    ['another version', JSON.stringify({ version: 2, logins: [] }), /not version 1 with a "logins" list/],
    ['no logins list', JSON.stringify({ version: 1 }), /not version 1 with a "logins" list/],
    [
      'a login without loginRole',
      JSON.stringify({ version: 1, logins: [{ ...login, loginRole: undefined }] }),
      /logins\[0\]\.loginRole must be a string/,
    ],
    [
      'a login without passwordFile',
      JSON.stringify({ version: 1, logins: [{ ...login, passwordFile: 7 }] }),
      /logins\[0\]\.passwordFile must be a string/,
    ],
    [
      'a retiring login whose grace is not a number',
      JSON.stringify({ version: 1, logins: [{ ...login, retireAfterSeconds: '1h' }] }),
      /logins\[0\]\.retireAfterSeconds must be a number/,
    ],
  ])('GIVEN %s WHEN read THEN a ConfigError names the problem', (name, text, message) => {
    const f = file(`${name.replace(/\W+/g, '-')}.json`, text);
    expect(() => readProvisionConfig(f)).toThrow(message);
    expect(() => readProvisionConfig(f)).toThrow(ConfigError);
  });

  test('GIVEN no file WHEN read THEN the error names the path and the ConfigMap to check', () => {
    expect(() => readProvisionConfig(path.join(dir, 'missing.json'))).toThrow(
      /provisioning config .*missing\.json cannot be read \(ENOENT\)/,
    );
  });
});

describe('checkLoginSpecs', () => {
  test('GIVEN a password file with a trailing newline WHEN read THEN the newline is not part of the password', () => {
    const passwordFile = file('pw', 'secret-value\n');
    expect(checkLoginSpecs([{ ...login, passwordFile }]).get('caracal_dev_api')).toBe('secret-value');
  });

  test.each([-1, 1.5, 40_000_000])(
    'GIVEN a retiring login with a grace of %s seconds WHEN checked THEN the error names the login, the value and the accepted range',
    (grace) => {
      const passwordFile = file('pw-retire', 'secret-value\n');
      expect(() => checkLoginSpecs([{ ...login, passwordFile, retireAfterSeconds: grace }])).toThrow(
        `provisioning: retireAfterSeconds of caracal_dev_api is ${grace}: expected whole seconds from 0 to 31536000 (a year)`,
      );
    },
  );

  test('GIVEN an unreadable password file WHEN checked THEN the error names the login and says which Secret to check, without a value', () => {
    let error: unknown;
    try {
      checkLoginSpecs([{ ...login, passwordFile: path.join(dir, 'nope') }]);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      message: expect.stringMatching(/password file .*nope of caracal_dev_api cannot be read \(ENOENT\)/),
      firstCheck: expect.stringMatching(/the database secret of caracal_dev_api/),
      exitCode: 2,
    });
  });
});
