import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'datasets/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      // One program for every package's src and test (tsconfig.eslint.json): faster than one
      // per package. Workspace imports resolve to the built dist/*.d.ts, so build (`tsc -b`) first.
      parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // An async method without await is how a Promise-returning interface (Scheduler, doctor
      // checks, test fakes) turns a synchronous throw into a rejection: kept on purpose.
      '@typescript-eslint/require-await': 'off',
      // Must stay errors: a promise nobody awaits loses its rejection (and the exit code).
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['packages/*/test/**/*.ts'],
    rules: {
      // Tests read JSON (status --json, HTTP bodies, child output) as `any` and assert on it.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Tests mark indexed reads (`rows[0]!`) as present; the assertion documents the expectation.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  // Plain JavaScript (scripts, test fixtures, this file) has no types to check.
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
);
