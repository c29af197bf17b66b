/**
 * Pearson chi-square of a 2 × K table of counts (control and treatment rows, K columns), as
 * scipy's `chi2_contingency(correction=False)`: does the treatment arm spread over the columns
 * (segments, reported vs missing outcome) like the control arm does? Columns empty in both arms
 * carry no information and are skipped; with fewer than two left there is nothing to differ.
 */
import { chisqSf } from "./distributions.ts";

export interface ArmCounts {
  control: number;
  treatment: number;
}

export function armContingency(columns: readonly ArmCounts[]): { chi2: number; df: number; pValue: number } {
  const used = columns.filter((c) => c.control + c.treatment > 0);
  if (used.length < 2) return { chi2: 0, df: 0, pValue: 1 };
  const controlTotal = used.reduce((s, c) => s + c.control, 0);
  const treatmentTotal = used.reduce((s, c) => s + c.treatment, 0);
  if (controlTotal === 0 || treatmentTotal === 0) return { chi2: 0, df: 0, pValue: 1 };
  const total = controlTotal + treatmentTotal;
  let chi2 = 0;
  for (const c of used) {
    const column = c.control + c.treatment;
    const expectedControl = (controlTotal * column) / total;
    const expectedTreatment = (treatmentTotal * column) / total;
    chi2 += (c.control - expectedControl) ** 2 / expectedControl;
    chi2 += (c.treatment - expectedTreatment) ** 2 / expectedTreatment;
  }
  const df = used.length - 1;
  return { chi2, df, pValue: chisqSf(chi2, df) };
}
