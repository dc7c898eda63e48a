import "server-only";
import type { Tx } from "../db/client";
import { conflict } from "../errors";

/**
 * Two names can differ and still give the same URL-safe slug ("QA" and "qa!"); the unique index would then refuse
 * the change with a message naming the wrong thing. Say what actually clashes. Exact duplicates are left to the
 * unique index and its "already has an environment named" message.
 */
export async function assertDistinctSlug(tx: Tx, applicationId: string, name: string, slug: string, exceptId?: string): Promise<void> {
  const clash = await tx.environment.findFirst({
    where: { applicationId, slug, name: { not: name }, ...(exceptId ? { id: { not: exceptId } } : {}) },
    select: { name: true },
  });
  if (clash) throw conflict(`"${name}" is too similar to the existing environment "${clash.name}": their addresses would be the same. Choose another name.`);
}
