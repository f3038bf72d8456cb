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
    // Tests read synthesized JSON and driver results whose shapes are not worth typing line by line.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
