import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Files run in parallel; each test server takes port 0 and its own temporary folder.
    fileParallelism: true,
  },
});
