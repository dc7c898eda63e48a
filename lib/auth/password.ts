import "server-only";
import { randomBytes } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";

// argon2id with the library's defaults (19 MiB, 2 passes: OWASP's recommended minimum).
export const hashPassword = (plain: string): Promise<string> => hash(plain);

// Verifying against this hash when the account does not exist keeps the response time the same, so timing does not
// tell an attacker which emails have accounts.
let dummyHash: Promise<string> | undefined;

export async function verifyPassword(passwordHash: string | null, plain: string): Promise<boolean> {
  try {
    return await verify(passwordHash ?? (await (dummyHash ??= hash(randomBytes(16).toString("hex")))), plain);
  } catch {
    return false;
  }
}

// No look-alike characters (0/O, 1/l/I): generated passwords get read off a terminal and typed.
const ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/** A random password of 20 characters (about 116 bits), in groups of five for reading aloud. */
export function generatePassword(): string {
  const bytes = randomBytes(20);
  const chars = Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join("");
  return chars.match(/.{5}/g)!.join("-");
}
