// `npx tsx scripts/make-favicon.ts`: renders app/icon.svg (the source of the icon) in Chromium at 16, 32 and 48
// pixels and writes app/favicon.ico with the three PNGs inside (the ICO format allows PNG entries). Browsers and
// bookmark tools ask for /favicon.ico whatever the page links; modern browsers use the SVG the pages link. Run it
// again after changing the SVG and commit both.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { chromium } from "@playwright/test";

const root = path.resolve(import.meta.dirname, "..");
const SIZES = [16, 32, 48];

async function main(): Promise<void> {
  const svg = await readFile(path.join(root, "app/icon.svg"), "utf8");
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
  const pngs: Buffer[] = [];
  try {
    for (const size of SIZES) {
      const page = await browser.newPage({ viewport: { width: size, height: size } });
      const sized = svg.replace(/width="32" height="32"/, `width="${size}" height="${size}"`);
      await page.setContent(`<html><body style="margin:0;background:transparent">${sized}</body></html>`);
      pngs.push(await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } }));
      await page.close();
    }
  } finally {
    await browser.close();
  }
  // ICONDIR (6 bytes), one ICONDIRENTRY (16 bytes) per image, then the images.
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // 1 = icon
  header.writeUInt16LE(pngs.length, 4);
  const entries: Buffer[] = [];
  let offset = 6 + 16 * pngs.length;
  pngs.forEach((png, i) => {
    const e = Buffer.alloc(16);
    const size = SIZES[i]!;
    e.writeUInt8(size >= 256 ? 0 : size, 0);
    e.writeUInt8(size >= 256 ? 0 : size, 1);
    e.writeUInt8(0, 2); // no palette
    e.writeUInt8(0, 3);
    e.writeUInt16LE(1, 4); // colour planes
    e.writeUInt16LE(32, 6); // bits per pixel
    e.writeUInt32LE(png.length, 8);
    e.writeUInt32LE(offset, 12);
    offset += png.length;
    entries.push(e);
  });
  await writeFile(path.join(root, "app/favicon.ico"), Buffer.concat([header, ...entries, ...pngs]));
  console.log(`wrote app/favicon.ico (${SIZES.join(", ")} px)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
