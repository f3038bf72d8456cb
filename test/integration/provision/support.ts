// Shared by the provisioning tests: per-test login specs with password files, and connecting as a login.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { LoginSpec } from '../../../src/provision/provision-roles';

export const SERVICES = ['api', 'coordinator', 'audit', 'sts', 'gateway'] as const;

export interface TestLogins {
  readonly env: string;
  readonly dir: string;
  readonly specs: LoginSpec[];
  readonly passwords: Map<string, string>;
  /** Writes a new password for a login's file and returns it. */
  rotate(loginRole: string): string;
}

export function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** Five service logins of a fresh environment name (roles are cluster-wide), each with a password file. */
export function testLogins(settings: Record<string, Record<string, string>> = {}): TestLogins {
  const env = `t${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'caracal-provision-'));
  const passwords = new Map<string, string>();
  const specs = SERVICES.map((service) => {
    const loginRole = `caracal_${env}_${service}`;
    const passwordFile = path.join(dir, `${service}.password`);
    const password = newPassword();
    writeFileSync(passwordFile, `${password}\n`);
    passwords.set(loginRole, password);
    return { loginRole, groupRole: `caracal_${service}`, passwordFile, settings: settings[service] ?? {} };
  });
  return {
    env,
    dir,
    specs,
    passwords,
    rotate(loginRole) {
      const spec = specs.find((s) => s.loginRole === loginRole)!;
      const password = newPassword();
      writeFileSync(spec.passwordFile, password);
      passwords.set(loginRole, password);
      return password;
    },
  };
}

/** Connects to `url`'s database as `user` with `password`; resolves to the client (caller ends it) or rejects. */
export async function connectAs(url: string, user: string, password: string): Promise<Client> {
  const u = new URL(url);
  const client = new Client({ host: u.hostname, port: Number(u.port), database: u.pathname.slice(1), user, password });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
  return client;
}

/** `canAuthenticate` for provisionRoles: a real connection as the login. */
export function authenticatorFor(url: string) {
  return async (user: string, password: string) => {
    try {
      const c = await connectAs(url, user, password);
      await c.end();
      return true;
    } catch {
      return false;
    }
  };
}

/** Drops the test's login roles (after their database is gone, so nothing depends on them). */
export async function dropLogins(admin: Client, specs: readonly LoginSpec[]): Promise<void> {
  for (const s of specs) await admin.query(`DROP ROLE IF EXISTS "${s.loginRole}"`);
}
