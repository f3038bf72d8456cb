// provisionRoles against the run's real Postgres with the baseline applied: logins created, connected
// with their passwords, members of their group roles, with their settings; reruns change nothing.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { FreshDatabase, serverUrl, withClient } from '../../support/postgres';
import { baselineDatabase } from '../../support/schema';
import { checkLoginSpecs, LoginSpec, provisionRoles } from '../../../src/provision/provision-roles';
import { authenticatorFor, connectAs, dropLogins, newPassword, testLogins, TestLogins } from './support';

const POOL_SETTINGS = {
  api: { statement_timeout: '15s', idle_in_transaction_session_timeout: '30s' },
  audit: { statement_timeout: '60s' },
};

let db: FreshDatabase;
let logins: TestLogins;

beforeEach(async () => {
  db = await baselineDatabase(serverUrl(), 'caracal_provision');
  logins = testLogins(POOL_SETTINGS);
});

afterEach(async () => {
  await db.drop();
  await withClient(serverUrl(), (c) => dropLogins(c, logins.specs));
});

const provision = (specs: readonly LoginSpec[] = logins.specs) =>
  withClient(db.url, (c) => provisionRoles(c, specs, { canAuthenticate: authenticatorFor(db.url) }));

async function asLogin<T>(loginRole: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = await connectAs(db.url, loginRole, logins.passwords.get(loginRole)!);
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const rolePasswords = () =>
  withClient(db.url, async (c) => {
    const { rows } = await c.query<{ rolname: string; rolpassword: string }>(
      'SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1) ORDER BY rolname',
      [logins.specs.map((s) => s.loginRole)],
    );
    return rows;
  });

describe('provisionRoles', () => {
  test('GIVEN the baseline WHEN provisioning five logins THEN each connects with its password as itself', async () => {
    await provision();
    for (const spec of logins.specs) {
      const user = await asLogin(spec.loginRole, async (c) => (await c.query('SELECT current_user AS u')).rows[0].u);
      expect(user).toBe(spec.loginRole);
    }
  });

  test('GIVEN the baseline WHEN provisioning THEN each login inherits exactly its own group role', async () => {
    await provision();
    await withClient(db.url, async (c) => {
      for (const spec of logins.specs) {
        const { rows } = await c.query<{ rolname: string }>(
          `SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles l ON l.oid = m.member
            WHERE l.rolname = $1 ORDER BY 1`,
          [spec.loginRole],
        );
        expect(rows.map((r) => r.rolname)).toEqual([spec.groupRole]);
        const attrs = await c.query(
          'SELECT rolcanlogin, rolinherit, rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = $1',
          [spec.loginRole],
        );
        expect(attrs.rows[0]).toEqual({ rolcanlogin: true, rolinherit: true, rolsuper: false, rolbypassrls: false, rolcreaterole: false });
      }
    });
  });

  test('GIVEN pool settings WHEN a login connects THEN the server applies its settings and defaults for the rest', async () => {
    await provision();
    const api = await asLogin(logins.specs[0].loginRole, async (c) => ({
      st: (await c.query('SHOW statement_timeout')).rows[0].statement_timeout,
      iit: (await c.query('SHOW idle_in_transaction_session_timeout')).rows[0].idle_in_transaction_session_timeout,
    }));
    expect(api).toEqual({ st: '15s', iit: '30s' });
    const sts = await asLogin(logins.specs[3].loginRole, async (c) => (await c.query('SHOW statement_timeout')).rows[0].statement_timeout);
    expect(sts).toBe('0');
  });

  test('GIVEN provisioned logins WHEN provisioning again THEN nothing changes, verifiers included', async () => {
    await provision();
    const before = await rolePasswords();
    const second = await provision();
    expect(second.map((r) => r.actions)).toEqual(logins.specs.map(() => []));
    expect(await rolePasswords()).toEqual(before);
  });

  test('GIVEN provisioned logins WHEN one password file changes THEN only that login is updated and the old password stops working', async () => {
    await provision();
    const api = logins.specs[0].loginRole;
    const old = logins.passwords.get(api)!;
    logins.rotate(api);
    const results = await provision();
    expect(results.map((r) => [r.loginRole, r.actions])).toEqual(
      logins.specs.map((s) => [s.loginRole, s.loginRole === api ? ['password'] : []]),
    );
    await expect(asLogin(api, async () => 'ok')).resolves.toBe('ok');
    await expect(connectAs(db.url, api, old)).rejects.toMatchObject({ code: '28P01' });
  });

  test('GIVEN provisioned settings WHEN a setting changes and another is removed THEN the login has exactly the new settings', async () => {
    await provision();
    const api = logins.specs[0];
    const changed = { ...api, settings: { statement_timeout: '20s' } };
    const results = await provision([changed, ...logins.specs.slice(1)]);
    expect(results[0].actions).toEqual(['set statement_timeout', 'reset idle_in_transaction_session_timeout']);
    const shown = await asLogin(api.loginRole, async (c) => [
      (await c.query('SHOW statement_timeout')).rows[0].statement_timeout,
      (await c.query('SHOW idle_in_transaction_session_timeout')).rows[0].idle_in_transaction_session_timeout,
    ]);
    expect(shown).toEqual(['20s', '0']);
  });

  test('GIVEN a login created by hand without LOGIN, CONNECT or membership WHEN provisioning THEN it is repaired', async () => {
    const api = logins.specs[0];
    await withClient(db.url, (c) => c.query(`CREATE ROLE "${api.loginRole}" NOLOGIN NOINHERIT`));
    const results = await provision();
    expect(results[0].actions).toEqual([
      'login inherit',
      'grant caracal_api',
      'grant connect',
      'set idle_in_transaction_session_timeout',
      'set statement_timeout',
      'password',
    ]);
    await expect(asLogin(api.loginRole, async () => 'ok')).resolves.toBe('ok');
  });

  test('GIVEN no authenticator WHEN provisioning again THEN passwords are set again and still work', async () => {
    await provision();
    const results = await withClient(db.url, (c) => provisionRoles(c, logins.specs));
    expect(results.every((r) => r.actions.join() === 'password')).toBe(true);
    await expect(asLogin(logins.specs[1].loginRole, async () => 'ok')).resolves.toBe('ok');
  });

  test('GIVEN a missing password file WHEN provisioning THEN it fails naming the file and no login is created', async () => {
    const broken = logins.specs.map((s, i) => (i === 2 ? { ...s, passwordFile: `${logins.dir}/missing` } : s));
    await expect(provision(broken)).rejects.toThrow(
      new RegExp(`password file ${logins.dir}/missing of ${logins.specs[2].loginRole} cannot be read`),
    );
    const { rowCount } = await withClient(db.url, (c) =>
      c.query('SELECT 1 FROM pg_roles WHERE rolname = ANY($1)', [logins.specs.map((s) => s.loginRole)]),
    );
    expect(rowCount).toBe(0);
  });

  test('GIVEN the passwords checkLoginSpecs already read WHEN provisioning with them THEN no password file is read again', async () => {
    const passwords = checkLoginSpecs(logins.specs);
    const gone = logins.specs.map((s) => ({ ...s, passwordFile: `${logins.dir}/removed-after-the-check` }));
    const results = await withClient(db.url, (c) => provisionRoles(c, gone, { passwords }));
    expect(results.map((r) => r.actions[0])).toEqual(logins.specs.map(() => 'create'));
    await expect(asLogin(logins.specs[0].loginRole, async () => 'ok')).resolves.toBe('ok');
  });

  test('GIVEN a group role that does not exist WHEN provisioning THEN it fails naming the role and rolls back every login', async () => {
    const broken = logins.specs.map((s, i) => (i === 4 ? { ...s, groupRole: 'caracal_nosuchgroup' } : s));
    await expect(provision(broken)).rejects.toThrow(/group role caracal_nosuchgroup does not exist/);
    const { rowCount } = await withClient(db.url, (c) =>
      c.query('SELECT 1 FROM pg_roles WHERE rolname = ANY($1)', [logins.specs.map((s) => s.loginRole)]),
    );
    expect(rowCount).toBe(0);
  });

  test('GIVEN a CREATEROLE migrator without ADMIN on the group roles WHEN provisioning THEN the error says what to grant', async () => {
    const migrator = `${logins.specs[0].loginRole}_mig`;
    const password = newPassword();
    await withClient(db.url, (c) =>
      c.query(`CREATE ROLE "${migrator}" LOGIN CREATEROLE PASSWORD '${password}'; GRANT CONNECT ON DATABASE "${db.name}" TO "${migrator}"`),
    );
    try {
      const c = await connectAs(db.url, migrator, password);
      const major = Number((await c.query('SHOW server_version_num')).rows[0].server_version_num) / 10000;
      const run = provisionRoles(c, logins.specs, { canAuthenticate: authenticatorFor(db.url) }).finally(() => c.end());
      if (major >= 16) {
        await expect(run).rejects.toMatchObject({
          message: expect.stringMatching(/provisioning login caracal_\w+_api failed at grant caracal_api \(SQLSTATE 42501\)/),
          exitCode: 2,
          firstCheck: expect.stringMatching(/CREATEROLE, and on Postgres 16\+ ADMIN OPTION on caracal_api/),
        });
      } else {
        await expect(run).resolves.toHaveLength(5);
      }
    } finally {
      await withClient(db.url, (c) => c.query(`DROP OWNED BY "${migrator}"`));
      await withClient(serverUrl(), (c) => c.query(`DROP ROLE "${migrator}"`)).catch(() => undefined);
    }
  });

  test('GIVEN a CREATEROLE migrator with ADMIN on the group roles WHEN provisioning THEN the logins work without a superuser', async () => {
    const migrator = `${logins.specs[0].loginRole}_mig`;
    const password = newPassword();
    const groups = logins.specs.map((s) => `"${s.groupRole}"`).join(', ');
    await withClient(db.url, (c) =>
      c.query(`CREATE ROLE "${migrator}" LOGIN CREATEROLE PASSWORD '${password}';
      GRANT ${groups} TO "${migrator}" WITH ADMIN OPTION; GRANT CONNECT ON DATABASE "${db.name}" TO "${migrator}" WITH GRANT OPTION`),
    );
    try {
      const c = await connectAs(db.url, migrator, password);
      await provisionRoles(c, logins.specs, { canAuthenticate: authenticatorFor(db.url) }).finally(() => c.end());
      await expect(asLogin(logins.specs[4].loginRole, async (l) => (await l.query('SELECT current_user AS u')).rows[0].u)).resolves.toBe(
        logins.specs[4].loginRole,
      );
    } finally {
      await withClient(db.url, (c) => c.query(`DROP OWNED BY "${migrator}"`));
      await withClient(serverUrl(), async (c) => {
        await dropLogins(c, logins.specs);
        await c.query(`DROP ROLE "${migrator}"`);
      }).catch(() => undefined);
    }
  });
});

describe('provisionRoles refuses bad specs before touching the database', () => {
  const good = () => logins.specs[0];
  test.each([
    ['login role with upper case', () => ({ ...good(), loginRole: 'Caracal_API' }), /login role "Caracal_API"/],
    ['login role with a quote', () => ({ ...good(), loginRole: 'x"; DROP ROLE y; --' }), /login role/],
    ['group role with a space', () => ({ ...good(), groupRole: 'caracal api' }), /group role "caracal api"/],
    ['setting name with SQL', () => ({ ...good(), settings: { 'statement_timeout = 0; --': '1' } }), /setting "statement_timeout = 0; --"/],
    [
      'setting value with a newline',
      () => ({ ...good(), settings: { statement_timeout: '1s\n' } }),
      /setting statement_timeout .* one-line/,
    ],
    ['empty password file', () => ({ ...good(), passwordFile: '/dev/null' }), /password file \/dev\/null .* is empty/],
  ])('GIVEN a bad spec (%s) WHEN provisioning THEN it is refused before touching the database', async (_name, spec, message) => {
    await expect(provision([spec()])).rejects.toThrow(message);
  });

  test('GIVEN the same login twice WHEN provisioning THEN it is refused as listed twice', async () => {
    await expect(provision([good(), good()])).rejects.toThrow(/listed twice/);
  });
});

describe('provisionRoles for the maintenance login', () => {
  test('GIVEN a caracal_<env>_maintenance spec WHEN provisioned THEN it connects, runs the partition functions and reads no table', async () => {
    const loginRole = `caracal_${logins.env}_maintenance`;
    const passwordFile = path.join(logins.dir, 'maintenance.password');
    const password = newPassword();
    writeFileSync(passwordFile, password);
    const spec = { loginRole, groupRole: 'caracal_maintenance', passwordFile };
    logins.specs.push(spec); // dropped with the others after the database
    const [result] = await withClient(db.url, (c) => provisionRoles(c, [spec], { canAuthenticate: authenticatorFor(db.url) }));
    expect(result.actions).toEqual(['create', 'grant caracal_maintenance', 'grant connect']);
    const c = await connectAs(db.url, loginRole, password);
    try {
      expect((await c.query('SELECT public.audit_partitions_ensure() AS n')).rows[0].n).toBe(0);
      expect((await c.query('SELECT count(*)::int AS n FROM public.audit_partition_health() WHERE NOT ok')).rows[0].n).toBe(0);
      await expect(c.query('SELECT 1 FROM public.zones')).rejects.toThrow(/permission denied for table zones/);
    } finally {
      await c.end();
    }
  });
});

describe('provisionRoles retiring a login (alternating rotation, apply 3)', () => {
  const validity = (loginRole: string) =>
    withClient(db.url, async (c) => {
      const { rows } = await c.query<{ rolcanlogin: boolean; until: string | null; future: boolean | null }>(
        'SELECT rolcanlogin, rolvaliduntil::text AS until, rolvaliduntil > now() AS future FROM pg_roles WHERE rolname = $1',
        [loginRole],
      );
      return rows[0];
    });

  test('GIVEN a provisioned login WHEN retired THEN it gets VALID UNTIL now() + grace, keeps its password and its open session, a rerun within the grace changes nothing, and a run after it sets NOLOGIN', async () => {
    await provision();
    const [api] = logins.specs;
    const open = await connectAs(db.url, api.loginRole, logins.passwords.get(api.loginRole)!);
    try {
      const before = await rolePasswords();
      const retiring = { ...api, retireAfterSeconds: 3600 };
      const [first] = await provision([retiring]);
      expect(first.actions).toEqual(['valid until']);
      expect(await validity(api.loginRole)).toMatchObject({ rolcanlogin: true, future: true });
      expect(await rolePasswords()).toEqual(before);
      expect((await provision([retiring]))[0].actions).toEqual([]);
      // The grace ends (as if an hour passed): the next run takes LOGIN away; the session already open keeps running.
      await withClient(db.url, (c) => c.query(`ALTER ROLE ${api.loginRole} VALID UNTIL '2000-01-01'`));
      await expect(asLogin(api.loginRole, async () => 'connected')).rejects.toThrow(/password authentication failed/);
      expect((await provision([retiring]))[0].actions).toEqual(['nologin']);
      expect(await validity(api.loginRole)).toMatchObject({ rolcanlogin: false });
      expect((await open.query('SELECT current_user AS u')).rows[0].u).toBe(api.loginRole);
    } finally {
      await open.end();
    }
  });

  test('GIVEN a retired login WHEN provisioned without retirement (rolled back, or its slot given a new token) THEN it can log in again with its password', async () => {
    await provision();
    const [api] = logins.specs;
    await provision([{ ...api, retireAfterSeconds: 1 }]);
    await withClient(db.url, (c) => c.query(`ALTER ROLE ${api.loginRole} NOLOGIN VALID UNTIL '2000-01-01'`));
    const [back] = await provision([api]);
    expect(back.actions).toEqual(['login inherit', 'valid until infinity']);
    expect(await validity(api.loginRole)).toMatchObject({ rolcanlogin: true, until: 'infinity' });
    expect(await asLogin(api.loginRole, async (c) => (await c.query('SELECT current_user AS u')).rows[0].u)).toBe(api.loginRole);
  });
});
