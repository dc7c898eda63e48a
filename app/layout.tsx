import type { Metadata } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Releasegate", template: "%s · Releasegate" },
  description: "Release approvals and zero-downtime promotion for your customers' web applications.",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page renders per request, none at build time: each response's scripts carry that response's CSP nonce
  // (proxy.ts), which a page built ahead could not know.
  await connection();
  return (
    <html lang="en">
      <body className="min-h-screen">{children}</body>
    </html>
  );
}
