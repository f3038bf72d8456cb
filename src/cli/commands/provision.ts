// `caracal-migrate provision --config FILE`, and the provisioning step of `up --provision FILE` as the migration
// Job runs it: reads the chart's provision.json, connects as the migrator, provisions the logins, one line each.
import type { Client } from 'pg';
import type { ConnectionSettings } from '../../migrate/connection';
import { ConfigError, ExitCode } from '../../migrate/errors';
import { checkLoginSpecs, describeResults, LoginResult, provisionLogins, readProvisionConfig } from '../../provision';
import { connectionFrom, Flags, str } from '../flags';
import type { Output } from '../output';

/** Reads the config and every password file without touching the database: `up --provision` runs it before migrating. */
export function checkProvisionConfig(configFile: string, out: Output): void {
  for (const password of checkLoginSpecs(readProvisionConfig(configFile).logins).values()) out.redact(password);
}

/** Provisions every login of `configFile` as `connection` (the migrator; on `session` when given), printing one line per login. */
export async function provisionStep(
  configFile: string,
  connection: ConnectionSettings,
  out: Output,
  session?: Client,
): Promise<LoginResult[]> {
  const config = readProvisionConfig(configFile);
  for (const password of checkLoginSpecs(config.logins).values()) out.redact(password);
  const results = await provisionLogins(config.logins, connection, session);
  for (const line of describeResults(results)) out.stdout(`provisioned ${line}`);
  return results;
}

/** Provisioning alone (the schema must already be migrated). */
export async function run(flags: Flags, out: Output): Promise<number> {
  const config = str(flags, 'config');
  if (config === undefined) throw new ConfigError('provision needs --config FILE (the provision.json the hook chart mounts)');
  await provisionStep(config, connectionFrom(flags, out), out);
  return ExitCode.OK;
}
