// Resolved in place of the `server-only` package under vitest (see vitest.config.ts). Next.js enforces the
// server/client boundary at build time; tests run the server code directly in Node, where that boundary holds.
export {};
