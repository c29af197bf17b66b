/**
 * ANSI colours for the terminal summary and the progress line, applied only when asked, so text
 * written to a file or a pipe stays plain.
 */

/** An SGR code pair: start, and the reset that ends it. */
export interface Paint {
  readonly open: string;
  readonly close: string;
}

const sgr = (open: number, close: number): Paint => ({ open: `\x1b[${open}m`, close: `\x1b[${close}m` });

export const ansi = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  cyan: sgr(36, 39),
  grey: sgr(90, 39),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
  pattern: /\x1b\[[0-9;]*m/g,
} as const;

/** `paint(true)(ansi.red, "x")` wraps in colour codes; `paint(false)` returns the text as it is. */
export function paint(color: boolean): (style: Paint, text: string) => string {
  return color ? (style, text) => `${style.open}${text}${style.close}` : (_style, text) => text;
}

/** Columns a string takes on a terminal, colour codes left out. */
export function visibleLength(text: string): number {
  return [...text.replace(ansi.pattern, "")].length;
}
