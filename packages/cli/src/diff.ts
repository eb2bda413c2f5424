/** Line-level edit script by Myers' O(ND) algorithm: fast when few lines change. */
function editScript(a: readonly string[], b: readonly string[]): ('=' | '-' | '+')[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const v = new Map<number, number>([[1, 0]]);
  const trace: Map<number, number>[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(new Map(v));
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v.get(k - 1) ?? -1) < (v.get(k + 1) ?? -1));
      let x = down ? (v.get(k + 1) ?? 0) : (v.get(k - 1) ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v.set(k, x);
      if (x >= n && y >= m) return backtrack(trace, n, m);
    }
  }
  return [];
}

function backtrack(trace: Map<number, number>[], n: number, m: number): ('=' | '-' | '+')[] {
  const ops: ('=' | '-' | '+')[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && (v.get(k - 1) ?? -1) < (v.get(k + 1) ?? -1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = v.get(prevK) ?? 0;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push('=');
      x--;
      y--;
    }
    if (d > 0) ops.push(down ? '+' : '-');
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}

/** A unified diff of two texts with three lines of context; empty when they are equal. */
export function unifiedDiff(before: string, after: string, name: string, context = 3): string {
  if (before === after) return '';
  const a = before.split('\n');
  const b = after.split('\n');
  const ops = editScript(a, b);
  const lines: { op: '=' | '-' | '+'; text: string; ai: number; bi: number }[] = [];
  let ai = 0;
  let bi = 0;
  for (const op of ops) {
    if (op === '=') lines.push({ op, text: a[ai]!, ai: ai++, bi: bi++ });
    else if (op === '-') lines.push({ op, text: a[ai]!, ai: ai++, bi });
    else lines.push({ op, text: b[bi]!, ai, bi: bi++ });
  }
  const out = [`--- ${name}`, `+++ ${name}`];
  let i = 0;
  let printed = -1;
  while (i < lines.length) {
    if (lines[i]!.op === '=') {
      i++;
      continue;
    }
    // Context never reaches back into the previous hunk.
    const start = Math.max(printed + 1, i - context);
    let end = i;
    // Extend the hunk while changes are within 2×context lines of each other.
    for (let j = i; j < lines.length; j++) {
      if (lines[j]!.op !== '=') end = j;
      else if (j - end > 2 * context) break;
    }
    end = Math.min(lines.length - 1, end + context);
    const hunk = lines.slice(start, end + 1);
    const aCount = hunk.filter((l) => l.op !== '+').length;
    const bCount = hunk.filter((l) => l.op !== '-').length;
    out.push(`@@ -${hunk[0]!.ai + 1},${aCount} +${hunk[0]!.bi + 1},${bCount} @@`);
    for (const l of hunk) out.push(`${l.op === '=' ? ' ' : l.op}${l.text}`);
    printed = end;
    i = end + 1;
  }
  return `${out.join('\n')}\n`;
}
