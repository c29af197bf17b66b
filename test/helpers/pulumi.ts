/**
 * Pulumi mock runtime for component tests: no CLI, no engine, no provider plugins.
 *
 * Call `setupPulumiMocks()` before importing the code under test (Pulumi reads the mock monitor
 * when a resource is constructed), then build components and inspect what they registered through
 * the returned recorder.
 */
import * as pulumi from "@pulumi/pulumi";

/** One registered resource as the mock engine saw it: its type token, name and resolved inputs. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly custom: boolean;
}

/** Extra output state a test gives a resource type (e.g. an EKS node group's ASG name). */
export type StateHook = (resource: RecordedResource) => Record<string, unknown>;

/** Every resource registered since the last `clear()`, in registration order. */
export interface ResourceRecorder {
  readonly resources: readonly RecordedResource[];
  /** Forgets what was recorded, so each test sees only its own resources. */
  clear(): void;
  /** Resources of one type token, e.g. `kubernetes:apps/v1:Deployment`. */
  ofType(type: string): RecordedResource[];
  /** The one resource with this type and name; throws naming what exists when it is missing. */
  get(type: string, name: string): RecordedResource;
  /** The Kubernetes objects (inputs of `kubernetes:*` resources other than providers). */
  k8sObjects(): Record<string, unknown>[];
  /** Adds output state to every later resource of `type`, on top of its inputs. */
  stateFor(type: string, hook: StateHook): void;
}

const recorded: RecordedResource[] = [];
const hooks = new Map<string, StateHook>();
let installed: Promise<void> | undefined;

const recorder: ResourceRecorder = {
  get resources() {
    return recorded;
  },
  clear() {
    recorded.length = 0;
  },
  ofType(type) {
    return recorded.filter((r) => r.type === type);
  },
  get(type, name) {
    const hit = recorded.find((r) => r.type === type && r.name === name);
    if (hit === undefined) {
      const seen = recorded.map((r) => `${r.type} ${r.name}`).join(", ");
      throw new Error(`no ${type} named ${name} was registered; registered: ${seen || "none"}`);
    }
    return hit;
  },
  k8sObjects() {
    return recorded
      .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers:"))
      .map((r) => r.inputs);
  },
  stateFor(type, hook) {
    hooks.set(type, hook);
  },
};

/**
 * Installs the mocks once per test file (later calls reuse them) and returns the recorder.
 * Resource ids are `${name}-id` and outputs echo the inputs, so ids are stable across runs.
 */
export async function setupPulumiMocks(): Promise<ResourceRecorder> {
  installed ??= pulumi.runtime.setMocks(
    {
      newResource(args) {
        const resource: RecordedResource = {
          type: args.type,
          name: args.name,
          inputs: args.inputs as Record<string, unknown>,
          custom: args.custom ?? true,
        };
        recorded.push(resource);
        const extra = hooks.get(args.type)?.(resource) ?? {};
        return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
      },
      call: (args) => args.inputs,
    },
    "llm-ab",
    "dev",
    false,
  );
  await installed;
  return recorder;
}

/** Resolves an Output to its value (mocks resolve every output, unknowns included, to plain data). */
export function promisify<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => {
    output.apply((value) => {
      resolve(value);
      return value;
    });
  });
}

/**
 * Waits until the given resources and every other registration started so far (children created
 * inside `apply` callbacks included) have reached the mock engine, so the recorder is complete.
 */
export async function settle(resources: readonly pulumi.Resource[] = []): Promise<void> {
  await Promise.all(resources.map((r) => promisify(r.urn)));
  // `waitForRPCs` is exported by the runtime but not in its typings; it drains the RPC queue,
  // re-checking when new registrations arrive meanwhile.
  const runtime = pulumi.runtime as unknown as { waitForRPCs(): Promise<void> };
  await runtime.waitForRPCs();
}

/**
 * Runs `fn`, which must throw a `pulumi.InputPropertyError`, and returns its property path and
 * reason (the error's message holds only the reason).
 */
export function inputPropertyError(fn: () => unknown): { propertyPath: string; reason: string } {
  try {
    fn();
  } catch (err) {
    if (pulumi.InputPropertyError.isInstance(err))
      return { propertyPath: err.propertyPath, reason: err.reason };
    throw err;
  }
  throw new Error("expected an InputPropertyError, but nothing was thrown");
}
