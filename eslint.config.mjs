// ESLint (flat config): the recommended JavaScript and TypeScript rules, plus the import boundaries
// that keep the public API and the command cores apart (CONVENTIONS.md, "One place per concern").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'require',
    'module',
    'exports',
    '__dirname',
    '__filename',
    'Buffer',
    'URL',
    'URLSearchParams',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'clearImmediate',
    'queueMicrotask',
    'AbortController',
    'AbortSignal',
    'performance',
    'TextDecoder',
    'TextEncoder',
    'structuredClone',
    'fetch',
  ].map((name) => [name, 'readonly']),
);

/** A module path into src/cli (relative, like '../cli/flags' or '../../src/cli'). */
const CLI_PATH = /(^|\/)cli(\/|$)/;
const CLI_BOUNDARY =
  'a core never imports src/cli: the CLI calls the core (src/cli/commands/), the core returns results or throws typed errors';

export default tseslint.config(
  { ignores: ['**/node_modules/', 'dist/', '**/cdktf.out/', 'coverage/', 'bench/.cache/', 'bench/out/', '.gen/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: nodeGlobals },
    rules: {
      // Validation code matches control characters on purpose (file names, passwords, reasons).
      'no-control-regex': 'off',
      // require() is used deliberately: lazy loading keeps the runner's start-up small (docs/runner.md),
      // and the deep provider paths are loaded only by the code that needs them.
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // The CLI depends on the cores, never the reverse: everything outside src/cli (the cores src/migrate,
    // src/validate, src/verify, src/provision and any future one, the app, the constructs) must not import
    // src/cli, by import or by a lazy require(). test/unit/lint/import-boundary.test.ts proves the rule fires.
    files: ['src/**/*.ts', 'constructs/**/*.ts', 'common/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: CLI_PATH.source, message: CLI_BOUNDARY }] }],
      'no-restricted-syntax': [
        'error',
        { selector: `CallExpression[callee.name='require'] > Literal.arguments[value=/${CLI_PATH.source}/]`, message: CLI_BOUNDARY },
      ],
    },
  },
  {
    // Tests read synthesized JSON and driver results whose shapes are not worth typing line by line.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // One test naming style (HELPERS.md): test('GIVEN <state> WHEN <action> THEN <outcome>'), never it().
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.name='it'], CallExpression[callee.object.name='it'], CallExpression[callee.callee.object.name='it']",
          message: "Name tests test('GIVEN … WHEN … THEN …'), not it().",
        },
        {
          selector:
            "CallExpression:matches([callee.name='test'], [callee.callee.object.name='test']) > :first-child:matches(Literal:not([value=/^GIVEN /]), TemplateLiteral:not(:has(TemplateElement:first-child[value.raw=/^GIVEN /])))",
          message: "A test title reads 'GIVEN <state> WHEN <action> THEN <outcome>'.",
        },
      ],
    },
  },
);
