import { DIALECTS } from '@tether/dialects';
import { carryTableMarkdown } from '@tether/migrate';

/** Tables of the README that are generated from the code, between `<!-- NAME:start -->` and `<!-- NAME:end -->`. */
export const GENERATED_SECTIONS = {
  keys: keysTableMarkdown,
  carry: () => carryTableMarkdown(),
} as const;

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Every key of every dialect with its kinds, default and meaning, from the dialects' tables. */
export function keysTableMarkdown(): string {
  const lines: string[] = [];
  for (const d of DIALECTS) {
    lines.push(
      `**${d.id}** — ${d.title}`,
      '',
      '| key | on | default | meaning |',
      '|---|---|---|---|',
    );
    for (const k of d.table) {
      lines.push(
        `| \`${cell(k.key)}\` | ${k.kinds.join(', ')} | ${k.default !== undefined ? cell(k.default) : ''} | ${cell(k.doc)} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n').trimEnd();
}

/** The README with every generated section replaced by what the code produces now. */
export function renderReadme(readme: string): string {
  let out = readme;
  for (const [name, render] of Object.entries(GENERATED_SECTIONS)) {
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    const a = out.indexOf(start);
    const b = out.indexOf(end);
    if (a === -1 || b === -1 || b < a)
      throw new Error(`README.md has no ${start} … ${end} section`);
    out = `${out.slice(0, a + start.length)}\n${render()}\n${out.slice(b)}`;
  }
  return out;
}
