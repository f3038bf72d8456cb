// SCRAM verifiers: byte-identical to what Postgres computes, accepted by real SCRAM authentication, and
// provisioning on a server that logs every statement leaves no password in its log.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OwnCluster, freshDatabase, startOwnCluster, withClient, serverUrl } from '../../support/postgres';
import { applyBaseline } from '../../support/schema';
import { provisionRoles } from '../../../src/provision/provision-roles';
import { parseScramVerifier, scramSha256Verifier, verifierMatches } from '../../../src/provision/scram';
import { authenticatorFor, connectAs, testLogins } from './support';

describe('scramSha256Verifier', () => {
  test.each([
    ['an ASCII password', 'correct horse battery staple'],
    ['a password with non-ASCII letters', 'pässwörd-ñ'],
    ['a password with a character NFKC maps (Roman numeral nine)', 'x\u2168y'],
    ['a password with a non-ASCII space', 'a\u00A0b'],
  ])('GIVEN %s WHEN Postgres hashes it THEN our verifier with its salt is identical', async (_name, password) => {
    const role = `caracal_scram_${Math.random().toString(36).slice(2, 10)}`;
    const stored = await withClient(serverUrl(), async (c) => {
      await c.query("SET password_encryption = 'scram-sha-256'");
      await c.query(`CREATE ROLE ${role} PASSWORD ${c.escapeLiteral(password)}`);
      try {
        return (await c.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role])).rows[0].rolpassword as string;
      } finally {
        await c.query(`DROP ROLE ${role}`);
      }
    });
    const parsed = parseScramVerifier(stored)!;
    expect(scramSha256Verifier(password, { iterations: parsed.iterations, salt: parsed.salt })).toBe(stored);
  });

  test('GIVEN a verifier WHEN checking another password THEN it does not match', () => {
    const v = scramSha256Verifier('one password');
    expect([verifierMatches(v, 'one password'), verifierMatches(v, 'another password')]).toEqual([true, false]);
  });

  test('GIVEN the same password twice THEN the salts differ', () => {
    expect(parseScramVerifier(scramSha256Verifier('p'))!.salt.equals(parseScramVerifier(scramSha256Verifier('p'))!.salt)).toBe(false);
  });
});

describe('provisioning on a server that logs every statement and authenticates with SCRAM', () => {
  let cluster: OwnCluster;

  beforeAll(async () => {
    cluster = await startOwnCluster({ postgresFlags: ['-c', 'log_statement=all', '-c', 'log_connections=on'], logsToStderr: true });
    // The harness initialises with `password` auth; make every TCP login use SCRAM.
    const hba = path.join(cluster.dataDir, 'pg_hba.conf');
    writeFileSync(hba, readFileSync(hba, 'utf8').replace(/\bpassword\s*$/gm, 'scram-sha-256'));
    await withClient(cluster.url, (c) => c.query('SELECT pg_reload_conf()'));
  }, 120_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  test('GIVEN SCRAM authentication WHEN provisioning twice and rotating one password THEN logins authenticate and the log holds no password', async () => {
    const rules = await withClient(cluster.url, (c) =>
      c.query<{ auth_method: string }>("SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE type = 'host'"),
    );
    expect(rules.rows.map((r) => r.auth_method)).toEqual(['scram-sha-256']);

    const db = await freshDatabase(cluster.url, 'caracal_scramlog');
    await applyBaseline(db.url);
    const logins = testLogins({ api: { statement_timeout: '15s' } });
    const everPasswords = [...logins.passwords.values()];
    await withClient(db.url, (c) => provisionRoles(c, logins.specs, { canAuthenticate: authenticatorFor(db.url) }));
    await withClient(db.url, (c) => provisionRoles(c, logins.specs, { canAuthenticate: authenticatorFor(db.url) }));
    everPasswords.push(logins.rotate(logins.specs[2].loginRole));
    await withClient(db.url, (c) => provisionRoles(c, logins.specs, { canAuthenticate: authenticatorFor(db.url) }));

    for (const spec of logins.specs) {
      const c = await connectAs(db.url, spec.loginRole, logins.passwords.get(spec.loginRole)!);
      await c.end();
    }
    const log = cluster.serverLog();
    expect(log).toMatch(/CREATE ROLE "caracal_\w+_api" WITH LOGIN INHERIT PASSWORD 'SCRAM-SHA-256\$4096:/);
    expect(log).toMatch(/ALTER ROLE "caracal_\w+_audit" WITH PASSWORD 'SCRAM-SHA-256\$/);
    expect(log).toMatch(/connection authorized: user=caracal_\w+_gateway/);
    expect(everPasswords.filter((p) => log.includes(p))).toEqual([]);
  });
});
