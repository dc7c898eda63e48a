import "server-only";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { db } from "../db/client";
import { env } from "../env";
import { log } from "../log";
import { bootstrapFirstAdmin, FIRST_ADMIN_EMAIL } from "./bootstrap-first-admin";

const initialAdminFile = () => path.resolve(/*turbopackIgnore: true*/ env().DATA_DIR, "initial-admin.txt");

/**
 * The generated credentials are worth nothing once replaced: no copy of them stays on disk. Only the file holding
 * exactly the password just replaced goes (a seed script sharing the directory must not remove another's).
 */
export async function forgetInitialAdminCredentials(replacedPassword: string): Promise<void> {
  const file = initialAdminFile();
  const text = await readFile(file, "utf8").catch(() => "");
  if (text.split("\n").includes(`password: ${replacedPassword}`)) await rm(file, { force: true });
}

/**
 * First start: creates the administrator and prints the one-time credentials. They are also written to
 * DATA_DIR/initial-admin.txt (mode 0600, like GitLab's initial_root_password) in case the console scrolled away;
 * the file goes as soon as the administrator has chosen their own password (and, should that have happened on
 * another instance, at this instance's next start).
 */
export async function announceFirstAdmin(): Promise<void> {
  const file = initialAdminFile();
  const created = await bootstrapFirstAdmin();
  if (created) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `email: ${created.email}\npassword: ${created.password}\n`, { mode: 0o600 });
    const url = env().NEXTAUTH_URL ?? `http://localhost:${env().PORT}`;
    // Printed to the console on purpose, once: this is how the person starting the server learns them.
    console.log(
      [
        "",
        "  ┌─ First run: an administrator account was created ─────────────",
        `  │  sign in at  ${url}/signin`,
        `  │  email       ${created.email}`,
        `  │  password    ${created.password}`,
        "  │  You will choose your own password at first sign-in.",
        `  │  (also saved in ${file} until then)`,
        "  └────────────────────────────────────────────────────────────────",
        "",
      ].join("\n"),
    );
    log.info({ email: created.email }, "first administrator created");
    return;
  }
  if (existsSync(file)) {
    const admin = await db.user.findUnique({ where: { email: FIRST_ADMIN_EMAIL }, select: { mustChangePassword: true } });
    if (!admin?.mustChangePassword) await rm(file, { force: true });
  }
}
