// Sizes for people: "4 GiB", "1.5 MiB", "512 bytes". Pure, so messages and pages share one wording.
const UNITS = ["KiB", "MiB", "GiB", "TiB"] as const;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
  let value = bytes;
  let unit = "bytes";
  for (const u of UNITS) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1).replace(/\.0$/, "")} ${unit}`;
}
