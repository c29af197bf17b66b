/** Which way of a metric is good for the treatment. */
export type Direction = "increase" | "decrease";

/** Favourable sign: +1 when the metric should go up, −1 when it should go down. */
export function goodSign(direction: Direction): 1 | -1 {
  return direction === "increase" ? 1 : -1;
}
