import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'p2p/**/*.test.ts', 'src-main/**/*.test.ts', 'e2e/**/*.test.ts'],
    // Builds dist/ once, so that CLI tests run the real compiled entry point.
    globalSetup: ['./build/test-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
