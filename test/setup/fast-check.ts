/**
 * Property tests run with a fixed seed so CI is reproducible; set FC_SEED to explore other seeds
 * locally (a failure prints the seed and the shrunk counterexample to replay).
 */
import fc from "fast-check";

fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261127) });
