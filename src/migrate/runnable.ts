// What the runner can run, checked on the files before anything touches the database (exit 2 otherwise): a file
// the runner wraps in a transaction has no transaction control of its own, and no file holds what only psql can
// run (meta-commands, COPY ... FROM STDIN). `validate --static` reports the same problems for every file.
import { ConfigError } from './errors';
import type { MigrationFile } from './files';
import { psqlOnlySyntax, transactionControlCommand, transactionControlStatements } from './sql-scanner';

export interface RunnabilityProblem {
  readonly file: string;
  readonly line: number;
  /** What is wrong, with file:line first: `0002_x.up.sql:3: psql meta-command \set is not SQL`. */
  readonly message: string;
  /** What to write instead. */
  readonly instead: string;
}

/** Every problem of one file, in line order. */
export function runnabilityProblems(file: MigrationFile): RunnabilityProblem[] {
  const problems: RunnabilityProblem[] = [];
  const at = (line: number) => `${file.filename}:${line}`;
  if (!file.noTransaction) {
    for (const stmt of transactionControlStatements(file.statements)) {
      problems.push({
        file: file.filename,
        line: stmt.line,
        message: `${at(stmt.line)} has its own ${transactionControlCommand(stmt)}: the runner already runs each file in one transaction`,
        instead:
          'remove its BEGIN/COMMIT, or put the line `-- caracal:no-transaction` in it to run its statements one by one, including its own transaction control',
      });
    }
  }
  for (const found of psqlOnlySyntax(file.sql)) {
    problems.push(
      found.kind === 'copy-from-stdin'
        ? {
            file: file.filename,
            line: found.line,
            message: `${at(found.line)}: COPY ... FROM STDIN needs psql to send the rows that follow it, and the runner sends SQL to the server, not through psql`,
            instead: 'write the rows as INSERT ... VALUES statements (or INSERT ... SELECT from data the database already has)',
          }
        : {
            file: file.filename,
            line: found.line,
            message: `${at(found.line)}: psql meta-command ${found.text} is not SQL, and the runner sends SQL to the server, not through psql`,
            instead: 'write plain SQL (a literal where a :variable was, one file per database instead of \\connect, no \\echo or \\set)',
          },
    );
    // Once psql-only syntax is found, what follows (COPY data, a meta-command's arguments) is not SQL either.
    break;
  }
  return problems.sort((a, b) => a.line - b.line);
}

/** Refuse (exit 2) the first pending file the runner cannot run, before anything runs. */
export function assertRunnable(files: readonly MigrationFile[]): void {
  for (const f of files) {
    const [first, ...more] = runnabilityProblems(f);
    if (!first) continue;
    const also = more.length ? ` (and ${more.length} more in this file)` : '';
    throw new ConfigError(`migration ${first.message}${also}; instead: ${first.instead}`, `the migration file ${first.file}`);
  }
}
