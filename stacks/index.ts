/**
 * The experiment stack's entry point (`pulumi up` / `pulumi preview`): runs the program with this
 * stack's config and exports what `Experiment` outputs. The program lives in program.ts, so
 * `llm-ab render` can run it under mocks.
 */
import { runProgram } from "./program.ts";

const outputs = await runProgram();

/** URL the application sends its OpenAI requests to. */
export const routerAddress = outputs.routerAddress;
/** uid of the experiment's Grafana dashboard. */
export const dashboardUid = outputs.dashboardUid;
/** Names of the experiment's alert rules. */
export const ruleNames = outputs.ruleNames;
/** The sample-size plan per primary metric. */
export const plan = outputs.plan;
