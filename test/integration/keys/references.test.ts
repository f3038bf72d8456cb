// `caracal-migrate key-references` on a real Postgres with the migrated schema: rows of every referencing column
// (provider_grants.encryption_key_id, audit_events.hmac_key_id, admin_tokens.hmac_key_id) in two zones, counted as
// the backup login (a member of caracal_backup, BYPASSRLS); a referenced key is refused (exit 4), an unreferenced one
// passes (exit 0), and a login that row-level security filters is refused before it can miscount.
import { randomBytes } from 'node:crypto';
import { FreshDatabase, withClient } from '../../support/postgres';
import { baselineDatabase } from '../../support/schema';
import { runCliCaptured } from '../../support/cli';

let db: FreshDatabase;
const suffix = randomBytes(3).toString('hex');
const BACKUP_LOGIN = `kr_backup_${suffix}`;
const API_LOGIN = `kr_api_${suffix}`;
const PASSWORD = randomBytes(18).toString('base64url');

const urlAs = (login: string) => {
  const u = new URL(db.url);
  u.username = login;
  u.password = PASSWORD;
  u.searchParams.set('sslmode', 'disable');
  return u.toString();
};
const keyReferences = (login: string, ...flags: string[]) => runCliCaptured(['key-references', '--database-url', urlAs(login), ...flags]);

beforeAll(async () => {
  db = await baselineDatabase();
  await withClient(db.url, async (c) => {
    await c.query(`CREATE ROLE ${BACKUP_LOGIN} LOGIN PASSWORD '${PASSWORD}' IN ROLE caracal_backup`);
    await c.query(`CREATE ROLE ${API_LOGIN} LOGIN PASSWORD '${PASSWORD}' IN ROLE caracal_api`);
    await c.query(`GRANT CONNECT ON DATABASE "${db.name}" TO ${BACKUP_LOGIN}, ${API_LOGIN}`);
    // Two zones, so a zone-filtered count could not be right by accident; rows written as the superuser.
    for (const slug of ['kr-one', 'kr-two']) {
      const zone = (await c.query<{ id: string }>(`INSERT INTO public.zones (slug, display_name) VALUES ($1, 'keys') RETURNING id`, [slug]))
        .rows[0].id;
      const provider = (
        await c.query<{ id: string }>(`INSERT INTO public.providers (zone_id, name, kind) VALUES ($1, 'idp', 'oidc') RETURNING id`, [zone])
      ).rows[0].id;
      for (let i = 0; i < 3; i++)
        await c.query(
          `INSERT INTO public.provider_grants (zone_id, provider_id, subject, access_token_ciphertext, encryption_key_id)
           VALUES ($1, $2, $3, decode(repeat('ab', 40), 'hex'), 'encryption-1')`,
          [zone, provider, `subject-${i}`],
        );
      await c.query(
        `INSERT INTO public.audit_events (zone_id, event_id, occurred_at, source, event_type, hmac_key_id, payload_hmac)
         VALUES ($1, gen_random_uuid(), now(), 'api', 'grant.created', 'hmac-1', decode(repeat('cd', 32), 'hex'))`,
        [zone],
      );
    }
    await c.query(
      `INSERT INTO public.admin_tokens (name, token_prefix, token_hash, hmac_key_id, scopes, created_by, expires_at)
       VALUES ('ops', 'crcl', decode(repeat('ef', 32), 'hex'), 'hmac-1', '{admin}', 'me', now() + interval '1 day')`,
    );
  });
});

afterAll(async () => {
  await db?.drop();
  await withClient(db.url.replace(/\/[^/?]+(\?|$)/, '/postgres$1'), (c) =>
    c.query(`DROP ROLE IF EXISTS ${BACKUP_LOGIN}, ${API_LOGIN}`),
  ).catch(() => undefined);
});

describe('caracal-migrate key-references', () => {
  test('GIVEN rows in two zones under hmac-1 and encryption-1 WHEN the backup login counts them THEN every referencing column is counted across zones and the retirement is refused (exit 4)', async () => {
    const r = await keyReferences(BACKUP_LOGIN, '--hmac-key-id', 'hmac-1', '--encryption-key-id', 'encryption-1', '--json');

    expect(r.code).toBe(4);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: false, countedAs: 'caracal_backup' });
    expect(
      report.counts.map((c: { table: string; column: string; keyId: string; rows: number }) => [c.keyId, `${c.table}.${c.column}`, c.rows]),
    ).toEqual([
      ['hmac-1', 'audit_events.hmac_key_id', 2],
      ['hmac-1', 'admin_tokens.hmac_key_id', 1],
      ['encryption-1', 'provider_grants.encryption_key_id', 6],
    ]);
  });

  test('GIVEN key ids no row references WHEN counted THEN each is 0 and the retirement may go ahead (exit 0)', async () => {
    const r = await keyReferences(BACKUP_LOGIN, '--hmac-key-id', 'hmac-0', '--encryption-key-id', 'encryption-0');

    expect(r.code).toBe(0);
    expect(r.stdout).toContain('hmac key hmac-0: 0 rows in audit_events.hmac_key_id');
    expect(r.stdout).toContain('encryption key encryption-0: 0 rows in provider_grants.encryption_key_id');
    expect(r.stdout).toMatch(/no row references hmac-0, encryption-0 \(counted as caracal_backup\): they may leave the key ring/);
  });

  test('GIVEN a service login, which row-level security filters WHEN it counts THEN it is refused (exit 2) before it can call a referenced key unreferenced', async () => {
    const r = await keyReferences(API_LOGIN, '--encryption-key-id', 'encryption-1');

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot count key references as kr_api_\w+: row-level security would hide rows of other zones/);
  });

  test.each([
    [['--hmac-key-id', 'hmac 1'], /--hmac-key-id "hmac 1" is not a key id: expected 1-64 letters, digits, "\.", "_" or "-"/],
    [['--encryption-key-id', 'enc/1'], /--encryption-key-id "enc\/1" is not a key id/],
    [[], /key-references needs at least one --hmac-key-id or --encryption-key-id/],
  ])('GIVEN bad flags %p WHEN run THEN it is a usage error (exit 2) naming the flag and what is accepted', async (flags, expected) => {
    const r = await keyReferences(BACKUP_LOGIN, ...flags);

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(expected);
  });
});
