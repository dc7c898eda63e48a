import type { Metadata } from "next";
import { NotFoundMessage } from "@/components/ui";

export const metadata: Metadata = { title: "Not found" };

// URLs that match no route; notFound() inside the signed-in app renders app/(app)/not-found.tsx instead.
export default function NotFound() {
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <NotFoundMessage />
    </main>
  );
}
