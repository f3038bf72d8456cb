// Provisioning as a library: connect as the migrator and create or update the per-environment logins of a
// provision.json (the `provision` command and `up --provision` call it). Never prints.
import { connect, ConnectionSettings } from '../migrate/connection';
import { LoginResult, LoginSpec, provisionRoles } from './provision-roles';

export { readProvisionConfig } from './provision-config';
export type { ProvisionConfig } from './provision-config';
export { checkLoginSpecs, describeResults } from './provision-roles';
export type { LoginResult, LoginSpec } from './provision-roles';

/** Connects with `connection` (the migrator) and provisions every login; checks each password by logging in with it. */
export async function provisionLogins(logins: readonly LoginSpec[], connection: ConnectionSettings): Promise<LoginResult[]> {
  const client = await connect(connection);
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
    return await provisionRoles(client, logins, { canAuthenticate });
  } finally {
    await client.end().catch(() => undefined);
  }
}
