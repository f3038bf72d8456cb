// Writes a generated Helm chart into the app's own output directory (`<outdir>/caracal-hook-charts/`), from
// where its TerraformAsset copies it into the stack's assets; never into /tmp or node_modules.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'cdktf';
import { Construct } from 'constructs';

/** The folder of the app's outdir that holds generated charts, one directory per chart-owning construct. */
export const CHART_DIRECTORY = 'caracal-hook-charts';

/**
 * Writes `files` (paths relative to the chart) to `<outdir>/caracal-hook-charts/<name>-<construct address>`,
 * replacing what an earlier synth wrote there, and returns the directory. The address keeps two constructs of one
 * app apart; the same construct path writes the same directory on every synth.
 */
export function writeChartDirectory(owner: Construct, name: string, files: ReadonlyMap<string, string>): string {
  const dir = path.resolve(App.of(owner).outdir, CHART_DIRECTORY, `${name}-${owner.node.addr.slice(0, 12)}`);
  rmSync(dir, { recursive: true, force: true });
  // Each folder once (a recursive mkdir walks the path every time).
  for (const folder of new Set([...files.keys()].map((file) => path.dirname(path.join(dir, file))))) mkdirSync(folder, { recursive: true });
  for (const [file, text] of files) writeFileSync(path.join(dir, file), text);
  return dir;
}
