/** Reading panels of a rendered dashboard back for tests: by title, and by the row they sit under. */
import type { DashboardModel } from "../../monitoring/dashboard.ts";

/** The parts of a panel's JSON the tests read. */
export interface PanelJson {
  type: string;
  title: string;
  description?: string;
  targets?: { expr: string; legendFormat: string }[];
  fieldConfig?: {
    defaults: {
      unit?: string;
      min?: number;
      max?: number;
      thresholds?: { steps: { value: number | null; color: string }[] };
      custom?: { stacking?: { mode: string } };
    };
  };
}

/** Every panel and row, in layout order. */
export function panels(dashboard: DashboardModel): PanelJson[] {
  return dashboard.panels as PanelJson[];
}

/** The panels under the row titled `title`, in layout order; undefined when there is no such row. */
export function rowPanels(dashboard: DashboardModel, title: string): PanelJson[] | undefined {
  const all = panels(dashboard);
  const start = all.findIndex((panel) => panel.type === "row" && panel.title === title);
  if (start < 0) return undefined;
  const end = all.findIndex((panel, index) => index > start && panel.type === "row");
  return all.slice(start + 1, end < 0 ? undefined : end);
}

/** The panel titled `title`; throws naming the titles there are when none is. */
export function panel(dashboard: DashboardModel, title: string): PanelJson {
  const found = panels(dashboard).find((each) => each.title === title);
  if (found === undefined) {
    throw new Error(
      `no panel "${title}"; have: ${panels(dashboard)
        .map((each) => each.title)
        .join(" | ")}`,
    );
  }
  return found;
}
