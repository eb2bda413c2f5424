/**
 * The `console` blocks of an example's README: the commands a reader types (`$ …`) and the
 * output they should see. The example test runs them and compares, so a README can never
 * promise what the code does not do.
 *
 * In expected output, `…` stands for an opaque token: one or more characters other than a space
 * or `;` (a cookie's value, say), so it never hides an attribute.
 * Only ```console blocks are run; ```sh blocks are illustrations.
 */

export interface Step {
  command: string;
  /** Lines printed by the command, as the README shows them. */
  expected: string[];
}

export interface Block {
  /** 1-based line of the opening fence, for messages. */
  line: number;
  steps: Step[];
}

/** Every ```console block of a Markdown text, with its commands and expected output. */
export function consoleBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let current: Block | undefined;
  let continued = false;
  for (const [index, line] of lines.entries()) {
    if (current === undefined) {
      if (line.trim() === '```console') current = { line: index + 1, steps: [] };
      continue;
    }
    if (line.trim() === '```') {
      blocks.push(current);
      current = undefined;
      continued = false;
      continue;
    }
    const last = current.steps.at(-1);
    if (continued && last) {
      // A command continued with a trailing backslash, as a shell would join it.
      last.command = `${last.command.slice(0, -1).trimEnd()} ${line.trim()}`;
      continued = last.command.endsWith('\\');
    } else if (line.startsWith('$ ')) {
      current.steps.push({ command: line.slice(2), expected: [] });
      continued = line.endsWith('\\');
    } else if (last) {
      last.expected.push(line);
    } else {
      throw new Error(`line ${index + 1}: output before any command`);
    }
  }
  if (current) throw new Error(`the block at line ${current.line} is not closed`);
  return blocks;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The expected lines with each one that matches its actual line replaced by the actual text,
 * so that `expect(actual).toEqual(result)` passes exactly when every line matches and shows a
 * readable diff when one does not.
 */
export function matchLines(actual: readonly string[], expected: readonly string[]): string[] {
  return expected.map((pattern, i) => {
    const line = actual[i];
    if (line === undefined) return pattern;
    const regex = new RegExp(`^${pattern.split('…').map(escapeRegExp).join('[^\\s;]+')}$`);
    return regex.test(line) ? line : pattern;
  });
}
