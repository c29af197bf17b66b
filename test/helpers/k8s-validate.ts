/**
 * Validates an emitted Kubernetes object against the official schemas: `kubernetes-models` for core
 * kinds, `@kubernetes-models/prometheus-operator` and `@kubernetes-models/keda` for the CRDs.
 */
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { AlertmanagerConfig } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { PriorityClass } from "kubernetes-models/scheduling.k8s.io/v1/PriorityClass";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";

/** A kubernetes-models class: static apiVersion/kind and a `validate()` that throws on bad data. */
interface ModelClass {
  readonly apiVersion: string;
  readonly kind: string;
  new (data: never): { validate(): void };
}

// Only the kinds llm-ab emits; an unlisted kind is a bug in the program or in this table, so it throws.
const MODELS: readonly ModelClass[] = [
  AlertmanagerConfig,
  ConfigMap,
  Deployment,
  HorizontalPodAutoscaler,
  Namespace,
  PersistentVolumeClaim,
  PodDisruptionBudget,
  PodMonitor,
  PriorityClass,
  PrometheusRule,
  Role,
  RoleBinding,
  ScaledObject,
  Secret,
  Service,
  ServiceAccount,
  ServiceMonitor,
  StatefulSet,
  TriggerAuthentication,
] as unknown as readonly ModelClass[];

const BY_TYPE = new Map(MODELS.map((m) => [`${m.apiVersion}/${m.kind}`, m]));

/** The `apiVersion/kind` pairs `validateK8sObject` knows. */
export const KNOWN_K8S_KINDS: readonly string[] = [...BY_TYPE.keys()].sort();

/**
 * Throws unless `obj` is a valid object of a known kind; the message names the kind, the object's
 * name and the schema errors.
 */
export function validateK8sObject(obj: unknown): void {
  if (typeof obj !== "object" || obj === null) throw new Error("not a Kubernetes object");
  const { apiVersion, kind, metadata } = obj as {
    apiVersion?: unknown;
    kind?: unknown;
    metadata?: { name?: unknown };
  };
  const name = typeof metadata?.name === "string" ? metadata.name : "<unnamed>";
  const model = BY_TYPE.get(`${String(apiVersion)}/${String(kind)}`);
  if (model === undefined) {
    throw new Error(
      `${String(kind)} ${name}: unknown kind ${String(apiVersion)}/${String(kind)} (known: ${KNOWN_K8S_KINDS.join(", ")})`,
    );
  }
  try {
    new model(obj as never).validate();
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    const errors = (err as { errors?: unknown }).errors;
    const listed = errors === undefined ? "" : ` ${JSON.stringify(errors)}`;
    throw new Error(`${String(kind)} ${name} is invalid: ${detail}${listed}`);
  }
}
