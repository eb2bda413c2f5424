import { DIALECTS } from '@tether/dialects';

export interface DialectListing {
  id: string;
  title: string;
  keys: { key: string; type: string; kinds: string[]; default?: string; doc: string }[];
}

/** Every dialect and every key it reads, straight from the annotation tables. */
export function listDialects(): DialectListing[] {
  return DIALECTS.map((d) => ({
    id: d.id,
    title: d.title,
    keys: d.table.map((k) => {
      const row: DialectListing['keys'][number] = {
        key: k.key,
        type: k.type,
        kinds: [...k.kinds],
        doc: k.doc,
      };
      if (k.default !== undefined) row.default = k.default;
      return row;
    }),
  }));
}

export function renderDialectsText(listing: readonly DialectListing[]): string {
  const lines: string[] = [];
  for (const d of listing) {
    lines.push(`${d.id} — ${d.title}`);
    for (const k of d.keys) {
      const def = k.default !== undefined ? ` (default ${k.default})` : '';
      lines.push(`  ${k.key}  [${k.kinds.join(', ')}]${def}`);
      lines.push(`      ${k.doc}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
