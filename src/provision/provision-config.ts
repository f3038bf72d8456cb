// provision.json, written by the hook chart generator and read by the migration Job: its shape, checked field by field.
import { ConfigError } from '../migrate/errors';
import { readJsonFile } from '../migrate/json-file';
import type { LoginSpec } from './provision-roles';

export interface ProvisionConfig {
  readonly version: 1;
  readonly logins: readonly LoginSpec[];
}

export function readProvisionConfig(file: string): ProvisionConfig {
  const parsed = readJsonFile(file, 'provisioning config', 'the runner ConfigMap the chart mounts (provision.json)');
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
    const retire = (l as { retireAfterSeconds?: unknown }).retireAfterSeconds;
    if (retire !== undefined && typeof retire !== 'number')
      throw new ConfigError(
        `provisioning config ${file}: logins[${i}].retireAfterSeconds must be a number`,
        'the runner ConfigMap the chart mounts (provision.json)',
      );
  });
  return c as ProvisionConfig;
}
