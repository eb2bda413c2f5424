import { structuredPatch } from 'diff';

/**
 * A unified diff of two texts with three lines of context; empty when they are equal. Lines
 * are what splitting on "\n" gives, so a missing final newline is a change of the last line
 * rather than a "\ No newline at end of file" marker.
 */
export function unifiedDiff(before: string, after: string, name: string, context = 3): string {
  if (before === after) return '';
  // Every line terminated, so the diff library sees exactly the lines of split('\n').
  const patch = structuredPatch(name, name, `${before}\n`, `${after}\n`, '', '', { context });
  const out = [`--- ${name}`, `+++ ${name}`];
  for (const hunk of patch.hunks) {
    out.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    for (const line of hunk.lines) out.push(line);
  }
  return `${out.join('\n')}\n`;
}
