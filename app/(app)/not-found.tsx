import type { Metadata } from "next";
import { NotFoundMessage } from "@/components/ui";

export const metadata: Metadata = { title: "Not found" };

// Rendered inside the app's layout (header and <main>), so no page-height centring of its own.
export default function NotFound() {
  return (
    <div className="flex justify-center py-16">
      <NotFoundMessage />
    </div>
  );
}
