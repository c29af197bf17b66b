/** The dashboard's uid: the same for every render of one experiment, so links and Pulumi ids last. */
import { createHash } from "node:crypto";

/** Grafana accepts uids of at most 40 characters. */
export const MAX_UID_LENGTH = 40;
const PREFIX = "llm-ab-";

/**
 * `llm-ab-<experiment>` when it fits in 40 characters; otherwise the name cut to fit plus `_` and
 * 8 hex digits of its SHA-256. Experiment names never contain `_`, so a shortened uid can never
 * equal another experiment's full one.
 */
export function dashboardUid(experiment: string): string {
  const full = `${PREFIX}${experiment}`;
  if (full.length <= MAX_UID_LENGTH) return full;
  const digest = createHash("sha256").update(experiment).digest("hex").slice(0, 8);
  const room = MAX_UID_LENGTH - PREFIX.length - 1 - digest.length;
  return `${PREFIX}${experiment.slice(0, room)}_${digest}`;
}
