// Provisioning as a library: connect as the migrator and create or update the per-environment logins of a
// provision.json (the `provision` command and `up --provision` call it). Never prints.
import type { Client } from 'pg';
import { connect, ConnectionSettings } from '../migrate/connection';
import { LoginResult, LoginSpec, provisionRoles } from './provision-roles';

export { readProvisionConfig } from './provision-config';
export type { ProvisionConfig } from './provision-config';
export { checkLoginSpecs, describeResults } from './provision-roles';
export type { LoginResult, LoginSpec } from './provision-roles';

/**
 * Provisions every login as the migrator, on `session` when given (left open) or on a new connection with
 * `connection`; checks each password by logging in with it, with `connection`'s host, port and TLS settings.
 */
export async function provisionLogins(
  logins: readonly LoginSpec[],
  connection: ConnectionSettings,
  session?: Client,
  /** checkLoginSpecs(logins), when the caller already read the password files. */
  passwords?: ReadonlyMap<string, string>,
): Promise<LoginResult[]> {
  const client = session ?? (await connect(connection));
  try {
    const canAuthenticate = async (user: string, password: string) => {
      const asLogin = { ...connection, user };
      Object.defineProperty(asLogin, 'password', { value: password, enumerable: false });
      try {
        const c = await connect(asLogin);
        await c.end();
        return true;
      } catch {
        return false;
      }
    };
    return await provisionRoles(client, logins, { canAuthenticate, ...(passwords ? { passwords } : {}) });
  } finally {
    if (!session) await client.end().catch(() => undefined);
  }
}
