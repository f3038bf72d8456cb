// Masking secrets in printed text: connection strings always, a server message's echo only of what was sent to it.
import { MASK, maskConnectionStrings, maskServerText, maskUnknownText } from '../../../src/migrate/redact';

describe('maskConnectionStrings', () => {
  test.each([
    ['a URL password', 'at postgres://u:s3cret@db:5432/x now', 'at postgres://u:***@db:5432/x now'],
    ['a URL password holding "@"', 'postgresql://u:p@ss@db/x', 'postgresql://u:***@db/x'],
    ['a key/value password', 'host=db password=s3cret user=u', 'host=db password=*** user=u'],
    ['a quoted key/value password', "host=db password='s 3' user=u", 'host=db password=*** user=u'],
  ])('GIVEN %s WHEN masked THEN only the password is replaced', (_t, text, expected) => {
    expect(maskConnectionStrings(text)).toBe(expected);
  });

  test('GIVEN text without a connection string WHEN masked THEN it is unchanged', () => {
    const text = 'caracal-migrate: applied 0001_a.up.sql in 3 ms; PGPASSWORD_FILE=/run/secrets/pw; postgres://db:5432/x';
    expect(maskConnectionStrings(text)).toBe(text);
  });
});

describe('maskServerText', () => {
  test('GIVEN a server message echoing a password that was sent WHEN masked THEN the whole token is masked and the rest is intact', () => {
    expect(maskServerText('invalid input syntax for type integer: "a"', "SELECT 'a'::int", ['a'])).toBe(
      `invalid input syntax for type integer: "${MASK}"`,
    );
  });

  test('GIVEN a password that was not sent WHEN a server message holds it THEN nothing is masked', () => {
    expect(maskServerText('relation "public.caracal" does not exist', 'SELECT 1 FROM public.zones', ['caracal'])).toBe(
      'relation "public.caracal" does not exist',
    );
  });

  test('GIVEN passwords of any length WHEN masked THEN the mask is the same', () => {
    const short = maskServerText('value "a"', "'a'", ['a']);
    const long = maskServerText('value "correct-horse-battery"', "'correct-horse-battery'", ['correct-horse-battery']);
    expect([short, long]).toEqual([`value "${MASK}"`, `value "${MASK}"`]);
  });
});

describe('maskUnknownText', () => {
  test('GIVEN a registered password inside longer words WHEN masked THEN only whole tokens are masked', () => {
    expect(maskUnknownText('caracal-migrate failed: token caracal rejected', ['caracal'])).toBe(
      `${MASK}-migrate failed: token ${MASK} rejected`,
    );
    expect(maskUnknownText('migration applied', ['a'])).toBe('migration applied');
  });
});
