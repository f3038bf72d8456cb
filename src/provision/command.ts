// The provisioning step of `caracal-migrate` (`provision --config FILE`, and `up --provision FILE` as the
// migration Job runs it): reads the chart's provision.json, connects as the migrator, provisions the logins.
import { readFileSync } from 'node:fs';
import { connect, ConnectionSettings, resolveConnection } from '../migrate/connection';
import { ConfigError, ExitCode } from '../migrate/errors';
import { checkLoginSpecs, describeResults, LoginResult, LoginSpec, provisionRoles } from './provision-roles';

/** provision.json, written by the hook chart generator. */
export interface ProvisionConfig {
  readonly version: 1;
  readonly logins: readonly LoginSpec[];
}

/** What the step needs from the CLI's Output: log lines, and secrets it must never print. */
export interface StepOutput {
  stdout(text: string): void;
  redact(secret: string | undefined): void;
}

export function readProvisionConfig(file: string): ProvisionConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `provisioning config ${file} ${code ? `cannot be read (${code})` : 'is not valid JSON'}`,
      'the runner ConfigMap the chart mounts (provision.json)',
    );
  }
  const c = parsed as Partial<ProvisionConfig>;
  if (!c || c.version !== 1 || !Array.isArray(c.logins)) {
    throw new ConfigError(
      `provisioning config ${file} is not version 1 with a "logins" list`,
      'the runner ConfigMap the chart mounts (provision.json): regenerate the chart with the same caracal-migrate version',
    );
  }
  c.logins.forEach((l, i) => {
    for (const key of ['loginRole', 'groupRole', 'passwordFile'] as const) {
      if (typeof l?.[key] !== 'string')
        throw new ConfigError(
          `provisioning config ${file}: logins[${i}].${key} must be a string`,
          'the runner ConfigMap the chart mounts (provision.json)',
        );
    }
  });
  return c as ProvisionConfig;
}

/** Reads the config and every password file without touching the database: `up --provision` runs it before migrating. */
export function checkProvisionConfig(configFile: string, out: StepOutput): void {
  for (const password of checkLoginSpecs(readProvisionConfig(configFile).logins).values()) out.redact(password);
}

/** Connects with `connection` (the migrator), provisions every login of `configFile`, logs one line per login. */
export async function provisionStep(configFile: string, connection: ConnectionSettings, out: StepOutput): Promise<LoginResult[]> {
  const config = readProvisionConfig(configFile);
  for (const password of checkLoginSpecs(config.logins).values()) out.redact(password);
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
    const results = await provisionRoles(client, config.logins, { canAuthenticate });
    for (const line of describeResults(results)) out.stdout(`provisioned ${line}`);
    return results;
  } finally {
    await client.end().catch(() => undefined);
  }
}

type Flags = Record<string, string | string[] | true>;

/** `caracal-migrate provision --config FILE`: provisioning alone (the schema must already be migrated). */
export async function run(flags: Flags, out: StepOutput): Promise<number> {
  const config = flags.config;
  if (typeof config !== 'string') throw new ConfigError('provision needs --config FILE (the provision.json the hook chart mounts)');
  const connection = resolveConnection(process.env, {
    databaseUrl: typeof flags['database-url'] === 'string' ? flags['database-url'] : undefined,
    connectTimeout: typeof flags['connect-timeout'] === 'string' ? flags['connect-timeout'] : undefined,
  });
  out.redact(connection.password);
  await provisionStep(config, connection, out);
  return ExitCode.OK;
}
