import "server-only";
import type { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { db, type Tx } from "../db/client";
import { env } from "../env";
import { FilesystemArtifactStore } from "./filesystem-store";

// Release artifacts are stored by content: the key is derived from the SHA-256 of the bytes, so the same build
// uploaded twice is kept once and a key can never point at other bytes than the digest the release records.
// Callers use this interface, never a concrete store, so another backend (S3, say) is a new implementation only.

export interface StoredArtifact {
  /** Lower-case hex SHA-256 of the bytes. */
  sha256: string;
  size: number;
  /** Opaque to callers; what Release.artifactStorageKey holds. */
  storageKey: string;
}

export interface PutArtifactOptions {
  /** Refused with PAYLOAD_TOO_LARGE as soon as more bytes than this arrive; nothing is kept. */
  maxBytes: number;
  /** The digest the sender declared; refused with INVALID_INPUT when the bytes differ, and nothing is kept. */
  expectedSha256?: string;
}

/** A byte range, both ends inclusive (as in HTTP). `end` absent = to the last byte. */
export interface ByteRange {
  start: number;
  end?: number;
}

export type ArtifactSource = Readable | ReadableStream<Uint8Array> | WebReadableStream<Uint8Array>;

export interface ArtifactStore {
  /** Streams `source` into the store (never buffering it whole), hashing as it goes. */
  putArtifact(source: ArtifactSource, options: PutArtifactOptions): Promise<StoredArtifact>;
  /** The bytes of `range` (default: all), and the artifact's total size. NOT_FOUND when the artifact is absent. */
  openArtifact(storageKey: string, range?: ByteRange): Promise<{ stream: Readable; size: number }>;
  /** The artifact's size, or null when it is absent. */
  statArtifact(storageKey: string): Promise<{ size: number } | null>;
  /**
   * Removes the bytes whatever references them. Only deleteArtifactIfUnreferenced (below) calls it, under the lock
   * that keeps a release being saved from losing its bytes.
   */
  deleteArtifact(storageKey: string): Promise<void>;
}

let store: ArtifactStore | undefined;

/** The configured store (the filesystem under ARTIFACT_DIR, default DATA_DIR/artifacts). */
export function getArtifactStore(): ArtifactStore {
  store ??= new FilesystemArtifactStore(FilesystemArtifactStore.rootFromEnv(env()));
  return store;
}

/**
 * Serialises "is anything still using these bytes?" against "a release now uses them", per storage key, across
 * every control-plane instance (the lock lives in PostgreSQL). Savers take it shared, the deleter exclusive.
 */
export async function lockArtifact(tx: Tx, storageKey: string, mode: "shared" | "exclusive"): Promise<void> {
  const key = `artifact:${storageKey}`;
  if (mode === "shared") await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(hashtextextended(${key}, 0))`;
  else await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
}

/**
 * Deletes stored bytes that no release references: the clean-up after an upload whose release was refused
 * (duplicate version, bad metadata, denied). Bytes another release uses stay. A release being saved at the same
 * moment either commits first (and its reference keeps the file) or finds the file gone under the lock and is
 * refused with a message to upload again, never saved pointing at nothing.
 */
export async function deleteArtifactIfUnreferenced(storageKey: string, artifactStore: ArtifactStore = getArtifactStore()): Promise<boolean> {
  return db.$transaction(async (tx) => {
    await lockArtifact(tx, storageKey, "exclusive");
    const references = await tx.release.count({ where: { artifactStorageKey: storageKey } });
    if (references > 0) return false;
    await artifactStore.deleteArtifact(storageKey);
    return true;
  });
}
