// docs/verify.md's rule table is what migration authors read: it lists exactly the rules validate enforces.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RULE_IDS, RULES } from '../../../src/validate/rules';

const DOC = readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'verify.md'), 'utf8');

/** The first column of the "| rule | flags | instead |" table. */
function documentedRules(markdown: string): string[] {
  const start = markdown.indexOf('| rule | flags | instead |');
  const rows = markdown.slice(start).split('\n').slice(2);
  const end = rows.findIndex((r) => !r.startsWith('|'));
  return rows.slice(0, end).map((r) => /^\| `([a-z-]+)` \|/.exec(r)?.[1] ?? `unparsed row: ${r}`);
}

describe('expand-only rules', () => {
  test('GIVEN docs/verify.md WHEN its rule table is read THEN it lists every rule exactly once and no other', () => {
    const documented = documentedRules(DOC);
    expect([...documented].sort()).toEqual([...RULE_IDS].sort());
    expect(new Set(documented).size).toBe(documented.length);
  });

  test.each(RULE_IDS.filter((id) => 'always' in RULES[id]))(
    'GIVEN the always-enforced rule %s WHEN docs/verify.md describes it THEN its row says so',
    (id) => {
      const row = DOC.split('\n').find((l) => l.startsWith(`| \`${id}\` |`));
      expect(row).toMatch(/always enforced/);
    },
  );
});
