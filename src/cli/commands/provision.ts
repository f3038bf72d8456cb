// `caracal-migrate provision --config FILE`, and the provisioning step of `up --provision FILE` as the migration
// Job runs it: reads the chart's provision.json, connects as the migrator, provisions the logins, one line each.
import type { Client } from 'pg';
import type { ConnectionSettings } from '../../migrate/connection';
import { ConfigError, ExitCode } from '../../migrate/errors';
import { checkLoginSpecs, describeResults, LoginResult, LoginSpec, provisionLogins, readProvisionConfig } from '../../provision';
import { connectionFrom, Flags, str } from '../flags';
import type { Output } from '../output';

/** provision.json and every password it names, read and checked once. */
export interface CheckedProvisionConfig {
  readonly file: string;
  readonly logins: readonly LoginSpec[];
  readonly passwords: ReadonlyMap<string, string>;
}

/**
 * Reads the config and every password file without touching the database (`up --provision` runs it before
 * migrating, so a bad config or a missing Secret fails before the schema changes); the passwords are redacted
 * from the output from then on.
 */
export function checkProvisionConfig(configFile: string, out: Output): CheckedProvisionConfig {
  const { logins } = readProvisionConfig(configFile);
  const passwords = checkLoginSpecs(logins);
  for (const password of passwords.values()) out.redact(password);
  return { file: configFile, logins, passwords };
}

/** Provisions every login of the checked config as `connection` (the migrator; on `session` when given), printing one line per login. */
export async function provisionStep(
  config: CheckedProvisionConfig,
  connection: ConnectionSettings,
  out: Output,
  session?: Client,
): Promise<LoginResult[]> {
  const results = await provisionLogins(config.logins, connection, session, config.passwords);
  for (const line of describeResults(results)) out.stdout(`provisioned ${line}`);
  return results;
}

/** Provisioning alone (the schema must already be migrated). */
export async function run(flags: Flags, out: Output): Promise<number> {
  const config = str(flags, 'config');
  if (config === undefined) throw new ConfigError('provision needs --config FILE (the provision.json the hook chart mounts)');
  const connection = connectionFrom(flags, out);
  await provisionStep(checkProvisionConfig(config, out), connection, out);
  return ExitCode.OK;
}
