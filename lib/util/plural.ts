/** "1 server", "3 servers": a count with its noun in the right number. */
export function plural(count: number | bigint, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 || count === 1n ? singular : pluralForm}`;
}
