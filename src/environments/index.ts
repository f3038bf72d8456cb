// Every environment the app synthesizes, validated together by the one schema.
import { dev } from './dev';
import { staging } from './staging';
import { prod } from './prod';
import { ha } from './ha';
import { EnvironmentSpec, validateEnvironments } from './schema';

export const ENVIRONMENT_FILES: ReadonlyArray<{ file: string; data: unknown }> = [
  { file: 'src/environments/dev.ts', data: dev },
  { file: 'src/environments/staging.ts', data: staging },
  { file: 'src/environments/prod.ts', data: prod },
  { file: 'src/environments/ha.ts', data: ha },
];

/** The validated environments; throws one ValidationError listing every problem of every file. */
export function loadEnvironments(): EnvironmentSpec[] {
  return validateEnvironments(ENVIRONMENT_FILES);
}

export * from './schema';
