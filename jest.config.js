// ESM TypeScript under jest: ts-jest transpiles (typechecking is `npm run typecheck`),
// workspace imports resolve to sources, and NodeNext `.js` suffixes are stripped.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/packages'],
  testMatch: ['**/test/**/*.test.ts'],
  moduleNameMapper: {
    '^@hfhpc/(core|scheduler|planner|ops|worker|fakehub|cli)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.jest.json' }],
  },
  testTimeout: 60000,
};
