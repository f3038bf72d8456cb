// caracal-migrate's CLI run in this process (runCli with a captured Output): its exit code, stdout and stderr.
import { runCli } from '../../src/cli/main';
import { Output } from '../../src/cli/output';

export async function runCliCaptured(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    argv,
    new Output(
      (s) => (stdout += s),
      (s) => (stderr += s),
    ),
  );
  return { code, stdout, stderr };
}
