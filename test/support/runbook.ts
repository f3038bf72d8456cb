// The runbook's anchors as GitHub renders them, so tests can prove that every link doctor prints and every
// alert's runbook_url lands on a heading of docs/operations.md.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const RUNBOOK = path.resolve(__dirname, '..', '..', 'docs', 'operations.md');

/** GitHub's heading slug: lower case, punctuation dropped (hyphens and underscores kept), spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every heading anchor of a markdown file (outside code blocks). */
export function anchors(file: string = RUNBOOK): string[] {
  let fenced = false;
  const out: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (m) out.push(slug(m[1]));
  }
  return out;
}
