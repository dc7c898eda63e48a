// Steps of the browser release upload (app/(app)/apps/[appId]/releases/new), as a developer takes them, and the
// generated build archives they upload.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import path from "node:path";
import type { Page } from "@playwright/test";
import { expect } from "../fixtures";

export interface GeneratedArtifact {
  path: string;
  size: number;
  sha256: string;
}

/** Writes `size` pseudo-random bytes (incompressible, like a real archive) to `file`; returns their SHA-256. */
export async function generateArtifact(file: string, size: number): Promise<GeneratedArtifact> {
  await mkdir(path.dirname(file), { recursive: true });
  const hash = createHash("sha256");
  const handle = await open(file, "w");
  try {
    for (let written = 0; written < size; ) {
      const chunk = randomBytes(Math.min(4 * 1024 * 1024, size - written));
      hash.update(chunk);
      await handle.write(chunk);
      written += chunk.length;
    }
  } finally {
    await handle.close();
  }
  return { path: file, size, sha256: hash.digest("hex") };
}

export const uploadForm = (page: Page) => page.getByRole("main");
export const transfer = (page: Page) => page.getByTestId("upload-transfer");

/** Picks the file through Uppy's (hidden) file input, as the "choose a file" dialog would. */
export async function pickFile(page: Page, file: string): Promise<void> {
  await page.getByTestId("upload-dropzone").locator('input[type="file"]').setInputFiles(file);
  await expect(transfer(page)).toBeVisible();
}

/** Waits until the upload reports complete (the form can then be saved). */
export async function waitUntilUploaded(page: Page, timeout = 60_000): Promise<void> {
  await expect(transfer(page)).toHaveAttribute("data-phase", "done", { timeout });
  await expect(page.getByTestId("upload-status")).toHaveText(/^Uploaded · /);
}

export interface ReleaseFields {
  version: string;
  notes?: string;
  needsMigration?: boolean;
  migrationInstructions?: string;
  sha256?: string;
}

export async function fillReleaseForm(page: Page, f: ReleaseFields): Promise<void> {
  const main = uploadForm(page);
  await main.getByLabel("Version").fill(f.version);
  if (f.notes !== undefined) await main.getByLabel("Release notes").fill(f.notes);
  if (f.needsMigration !== undefined) await main.getByLabel("This release needs a database migration").setChecked(f.needsMigration);
  if (f.migrationInstructions !== undefined) await main.getByLabel("Patch and migration instructions").fill(f.migrationInstructions);
  if (f.sha256 !== undefined) await main.getByLabel("Expected SHA-256 (optional)").fill(f.sha256);
}

export async function saveRelease(page: Page): Promise<void> {
  await uploadForm(page).getByRole("button", { name: "Save release" }).click();
}

/** Requests the page makes to the tus endpoint, with the offset each PATCH starts at. */
export function recordUploadRequests(page: Page) {
  const seen: { method: string; offset: number | null }[] = [];
  page.on("request", (r) => {
    if (!new URL(r.url()).pathname.startsWith("/api/uploads")) return;
    const offset = r.headers()["upload-offset"];
    seen.push({ method: r.method(), offset: offset === undefined ? null : Number(offset) });
  });
  return seen;
}

// Full-page pictures, saved like e2e/screenshots.spec.ts saves its own (same folder and switch), to be looked at.
const shots = path.resolve(import.meta.dirname, process.env.UPDATE_SCREENSHOTS === "1" ? "../../docs/screenshots" : "../../test-results/screenshots");

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(shots, { recursive: true });
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true, animations: "disabled" });
}
