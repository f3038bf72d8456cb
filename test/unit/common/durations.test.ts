// The one duration grammar (common/durations.ts) shared by the runner's flags and the constructs' props.
import { parseDuration } from '../../../common/durations';

describe('parseDuration', () => {
  test.each<[string, number]>([
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['5min', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    [' 10 s ', 10_000],
    ['0s', 0],
  ])('GIVEN %j WHEN parsed THEN it is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each<[string, 'ms' | 's', number]>([
    ['90', 's', 90_000],
    ['0.25', 's', 250],
    ['1500', 'ms', 1_500],
  ])('GIVEN the bare number %j and a bare-number unit %s WHEN parsed THEN it is %d ms', (text, unit, ms) => {
    expect(parseDuration(text, unit)).toBe(ms);
  });

  test.each(['30', '', 'forever', '5 minutes', '-1s', '1e3ms', '1,5s', '30S', 's', '1.s'])(
    'GIVEN %j without a bare-number unit WHEN parsed THEN it is not a duration',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );

  test('GIVEN a value that is not a string WHEN parsed THEN it is not a duration', () => {
    expect(parseDuration(30 as never)).toBeUndefined();
  });
});
