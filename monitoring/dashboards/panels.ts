/**
 * The panel shapes the dashboard uses, with the defaults every panel shares: the `$datasource`
 * Prometheus, a visible legend, and threshold lines drawn from the thresholds given as data.
 */
import * as common from "@grafana/grafana-foundation-sdk/common";
import { ThresholdsConfigBuilder, ThresholdsMode } from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder, PromQueryFormat } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanel } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TablePanel } from "@grafana/grafana-foundation-sdk/table";
import { PanelBuilder as TimeseriesPanel } from "@grafana/grafana-foundation-sdk/timeseries";
import type { ThresholdStep } from "./guardrail-views.ts";

/** Every query goes to the Prometheus picked in the `datasource` variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal.
export const DATASOURCE = { type: "prometheus", uid: "${datasource}" } as const;

/** Panel sizes on Grafana's 24-column grid. */
export const HALF = 12;
export const THIRD = 8;
export const QUARTER = 6;
const HEIGHT = 8;
const STAT_HEIGHT = 5;

/** One PromQL query of a panel. */
export interface Query {
  readonly expr: string;
  readonly legend: string;
}

const REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

function target(query: Query, index: number, instant: boolean, table = false): DataqueryBuilder {
  const builder = new DataqueryBuilder()
    .datasource(DATASOURCE)
    .expr(query.expr)
    .legendFormat(query.legend)
    .refId(REF_IDS[index] ?? `Q${index}`);
  if (table) builder.format(PromQueryFormat.Table);
  return instant ? builder.instant() : builder.range();
}

function thresholds(steps: readonly ThresholdStep[]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([...steps]);
}

/** What every panel states about itself. */
export interface PanelText {
  readonly title: string;
  /** Shown in the panel's info tooltip: what the numbers are and how to read them. */
  readonly description: string;
  readonly unit: string;
  readonly width: number;
}

/**
 * A time series panel. Threshold steps beyond the base one are drawn as dashed lines, so a guardrail's
 * bound is visible on the graph it guards.
 */
export function timeseries(
  text: PanelText,
  queries: readonly Query[],
  steps: readonly ThresholdStep[] = [],
): TimeseriesPanel {
  const panel = new TimeseriesPanel()
    .title(text.title)
    .description(text.description)
    .datasource(DATASOURCE)
    .unit(text.unit)
    .span(text.width)
    .height(HEIGHT)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(["lastNotNull", "max"]),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi))
    .targets(queries.map((query, index) => target(query, index, false)));
  if (steps.length > 1) {
    panel
      .thresholds(thresholds(steps))
      .thresholdsStyle(
        new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed),
      );
  }
  return panel;
}

/** A single-number panel (each series' value now, an instant query), coloured by the threshold steps. */
export function stat(text: PanelText, queries: readonly Query[], steps: readonly ThresholdStep[]): StatPanel {
  return new StatPanel()
    .title(text.title)
    .description(text.description)
    .datasource(DATASOURCE)
    .unit(text.unit)
    .span(text.width)
    .height(STAT_HEIGHT)
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
    .thresholds(thresholds(steps))
    .targets(queries.map((query, index) => target(query, index, true)));
}

/** A table of the series an instant query returns now, one row per label set. */
export function table(text: PanelText, query: Query): TablePanel {
  return new TablePanel()
    .title(text.title)
    .description(text.description)
    .datasource(DATASOURCE)
    .unit(text.unit)
    .span(text.width)
    .height(HEIGHT)
    .targets([target(query, 0, true, true)]);
}
