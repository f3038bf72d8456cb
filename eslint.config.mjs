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

/** Layers under the app (DESIGN.md): common/ <- runner cores (src/migrate, validate, verify, provision) and constructs/. */
const COMMON_BOUNDARY = 'common/ imports nothing but its own files: the runner bundle and the constructs both depend on it';
/** A path into constructs/, or the constructs package itself: neither belongs in the runner bundle. */
const CONSTRUCTS_PATH = /(^|\/)constructs(\/|$)/;
const CONSTRUCTS_BOUNDARY = 'a runner core never imports the constructs (or cdktf): shared names and units live in common/';
/** A path into src/ other than src/cli (which the CLI rule names). */
const SRC_PATH = /(^|\/)src(\/(?!cli(\/|$))|$)/;
const SRC_BOUNDARY = 'the constructs never import src/ (the app and the runner): shared names and units live in common/';
/** A relative path to a module behind the library's public API (constructs/<anything but index>). */
const LIBRARY_INTERNALS = /^\.{1,2}\/(.*\/)?constructs\/(?!index$)/;
const LIBRARY_BOUNDARY = 'the app uses the library through its public API only: import from constructs (constructs/index.ts)';
/** Running a process: the constructs never build anything at synth (the runner bundle is an input). */
const CHILD_PROCESS = /^(node:)?child_process$/;
const SYNTH_BOUNDARY = 'the constructs never run a process at synth: build steps belong to `npm run build` (the bundle is an input)';

/** Forbids importing (or lazily requiring) paths matching any of the given [regex, message] pairs. */
function importBoundary(...forbidden) {
  return {
    'no-restricted-imports': ['error', { patterns: forbidden.map(([regex, message]) => ({ regex: regex.source, message })) }],
    'no-restricted-syntax': [
      'error',
      ...forbidden.map(([regex, message]) => ({
        selector: `CallExpression[callee.name='require'] > Literal.arguments[value=/${regex.source}/]`,
        message,
      })),
    ],
  };
}

export default tseslint.config(
  { ignores: ['**/node_modules/', 'dist/', 'examples/*/build/', '**/cdktf.out/', 'coverage/', 'bench/.cache/', 'bench/out/', '.gen/'] },
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
    // The app (src/main.ts, src/environments, src/stacks, ...) imports the library only through constructs/index.ts,
    // as a platform stack that installs the package does; the runner cores' rule below forbids the constructs
    // altogether. test/unit/lint/layer-boundaries.test.ts proves the rule fires.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: importBoundary([CLI_PATH, CLI_BOUNDARY], [LIBRARY_INTERNALS, LIBRARY_BOUNDARY]),
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: importBoundary([LIBRARY_INTERNALS, LIBRARY_BOUNDARY]),
  },
  {
    // common/ holds the names and units the runner and the constructs share, so it depends on nothing: no
    // package, no Node module, no other folder of the project; only its own files (./x).
    files: ['common/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!\\./)', message: COMMON_BOUNDARY }] }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.name='require']", message: COMMON_BOUNDARY },
        { selector: 'ImportExpression', message: COMMON_BOUNDARY },
      ],
    },
  },
  {
    // The runner cores (bundled into the Job) use common/, never the constructs; the CLI rule above still holds.
    files: [
      'src/migrate/**/*.ts',
      'src/validate/**/*.ts',
      'src/verify/**/*.ts',
      'src/provision/**/*.ts',
      'src/doctor/**/*.ts',
      'src/redis/**/*.ts',
    ],
    rules: importBoundary([CLI_PATH, CLI_BOUNDARY], [CONSTRUCTS_PATH, CONSTRUCTS_BOUNDARY]),
  },
  {
    // The constructs (the library) use common/, never the app or the runner in src/, and never spawn a build at
    // synth; the CLI rule above still holds.
    files: ['constructs/**/*.ts'],
    rules: importBoundary([CLI_PATH, CLI_BOUNDARY], [SRC_PATH, SRC_BOUNDARY], [CHILD_PROCESS, SYNTH_BOUNDARY]),
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
