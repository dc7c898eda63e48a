// Small helpers for text people read, shared by the pages, the domain's messages and the agent's log lines (the
// agent bundles this file: keep it free of imports).

/** "1 node", "3 nodes": a count with its noun in the right number. */
export function plural(count: number | bigint, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 || count === 1n ? singular : pluralForm}`;
}

/**
 * Text someone typed (a reason, a message), ended as a sentence to put another one after: with exactly one full stop,
 * unless it already ends as a sentence does (?, !, …, or a closing quote after one), so "balance." never becomes
 * "balance..".
 */
export function sentence(text: string): string {
  const t = text.trim();
  if (/[?!…]$|[.?!…]["”’)]$/.test(t)) return t;
  return `${t.replace(/\.+$/, "")}.`;
}
