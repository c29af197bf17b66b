/** Tests use the local stack's Prometheus supervisor (local/supervisor/prometheus.ts). */
export {
  type QueryResult,
  type RunningPrometheus as TestPrometheus,
  type Sample,
  startPrometheus,
} from "../../local/supervisor/prometheus.ts";
