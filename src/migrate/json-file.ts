// Reads a JSON file the runner is handed (the provisioning config, a backup manifest): a file that cannot be read or
// parsed is a ConfigError naming it, what is wrong with it and the first thing to check.
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors';

/** The parsed content of `file` (its shape is the caller's to check); `what` names it in the message. */
export function readJsonFile(file: string, what: string, firstCheck: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `${what} ${file} ${code ? `cannot be read (${code})` : `is not valid JSON (${(e as Error).message})`}`,
      firstCheck,
    );
  }
}
