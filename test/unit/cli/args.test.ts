// The CLI's strict argument parser.
import { parseArgs } from '../../../src/cli/args';
import { FLAGS, COMMANDS } from '../../../src/cli/main';

const parse = (argv: string[]) => parseArgs(argv, FLAGS, Object.keys(COMMANDS));

describe('parseArgs', () => {
  test.each([
    [['up'], { command: 'up', flags: {} }],
    [['up', '--dir', 'm'], { command: 'up', flags: { dir: 'm' } }],
    [['up', '--dir=m'], { command: 'up', flags: { dir: 'm' } }],
    [['up', '--wait-for-db'], { command: 'up', flags: { 'wait-for-db': '60s' } }],
    [['up', '--wait-for-db', '90'], { command: 'up', flags: { 'wait-for-db': '90' } }],
    [['up', '--wait-for-db=2m'], { command: 'up', flags: { 'wait-for-db': '2m' } }],
    [['status', '--json'], { command: 'status', flags: { json: true } }],
    [['repair', '--version', '3', '--version=4'], { command: 'repair', flags: { version: ['3', '4'] } }],
    [['-h'], { command: undefined, flags: { help: true } }],
  ])('GIVEN %j WHEN parsed THEN the command and flags are as expected', (argv, expected) => {
    expect(parse(argv)).toEqual(expected);
  });

  test.each([
    [['up', '--nope'], /unknown flag --nope/],
    [['sideways'], /unknown command "sideways"/],
    [['up', 'extra'], /unexpected argument "extra"/],
    [['up', '--json=yes'], /flag --json takes no value/],
    [['up', '--dir', 'a', '--dir', 'b'], /flag --dir is given twice/],
    [['up', '--lock-wait'], /flag --lock-wait needs a value/],
    [['up', '--dir='], /flag --dir needs a value, got an empty one: migrations directory/],
    [['up', '--dir', ''], /flag --dir needs a value, got an empty one/],
  ])('GIVEN %j WHEN parsed THEN it is rejected', (argv, message) => {
    expect(() => parse(argv)).toThrow(message);
  });
});
