/** Quoting for the SQL that analysis/ builds for DuckDB. */

/** A single-quoted SQL string literal. */
export const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** A double-quoted SQL identifier. */
export const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;
