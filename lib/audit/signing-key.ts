// The Ed25519 key pair that signs audit checkpoints. The private key lives in a file outside the database, so a
// database administrator who rewrites history cannot re-sign it; auditors verify with the public key alone.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

export interface SigningKey {
  privateKey: KeyObject;
  publicKeyPem: string;
  keyId: string;
}

/** sha256 of the public key's DER (SPKI) encoding, hex: names the key in every checkpoint. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex");
}

export function loadPublicKey(pem: string): { publicKey: KeyObject; keyId: string } {
  const publicKey = createPublicKey(pem);
  if (publicKey.asymmetricKeyType !== "ed25519") throw new Error("the audit public key must be an Ed25519 key");
  return { publicKey, keyId: keyIdOf(publicKey) };
}

/**
 * Loads the private key from `file`, creating it (mode 0600) with its public half beside it (`.pub.pem`) when
 * absent. Several control-plane instances must share one file.
 */
export async function loadOrCreateSigningKey(file: string): Promise<SigningKey> {
  if (!existsSync(file)) {
    await mkdir(path.dirname(file), { recursive: true });
    const { privateKey } = generateKeyPairSync("ed25519");
    // flag "wx": if another instance created the file first, keep theirs.
    await writeFile(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "EEXIST") throw e;
    });
  }
  const privateKey = createPrivateKey(await readFile(file));
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`${file} is not an Ed25519 private key`);
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const pubFile = file.replace(/(\.pem)?$/, ".pub.pem");
  if (!existsSync(pubFile)) await writeFile(pubFile, publicKeyPem, { mode: 0o644 });
  return { privateKey, publicKeyPem, keyId: keyIdOf(publicKey) };
}
