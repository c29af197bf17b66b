/** Number formatting shared by the HTML report, the terminal summary and the progress line. */

/** 1234 → "1,234". */
export const count = (n: number): string => n.toLocaleString("en-US", { maximumFractionDigits: 0 });

/** Seconds since the start: 62 → "62 s", 61.5 → "61.5 s". */
export const seconds = (t: number): string => `${+t.toFixed(1)} s`;

/** A share: 0.1234 → "12.3 %". */
export const percent = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)} %`;

/** A p-value: 3 significant digits, "< 0.0001" below that. */
export function pValue(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  if (x < 1e-4) return "< 0.0001";
  return x >= 0.01 ? x.toFixed(3) : x.toPrecision(2);
}

/** A value of a metric's unit: 4 significant digits, trailing zeros dropped. */
export function value(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return `${+x.toPrecision(digits)}`;
}

/** A difference with its sign: +0.061, −0.2. */
export function signed(x: number, digits = 3): string {
  const text = value(Math.abs(x), digits);
  return x > 0 ? `+${text}` : x < 0 ? `−${text}` : text;
}

/** A latency in seconds, as a person reads it: 0.042 → "42 ms", 1.5 → "1.5 s". */
export function latency(s: number): string {
  return Math.abs(s) < 1 ? `${+(s * 1000).toPrecision(3)} ms` : `${+s.toPrecision(3)} s`;
}

/** A difference with its sign at fixed decimals: +11.0, −2.5. */
export function signedFixed(x: number, decimals: number): string {
  const text = Math.abs(x).toFixed(decimals);
  if (Number(text) === 0) return text;
  return x > 0 ? `+${text}` : `−${text}`;
}
