// The baseline of the render benchmark: a one-resource Pulumi program run under the same offline harness.
import * as k8s from "@pulumi/kubernetes";

export const name = new k8s.core.v1.Namespace("baseline", { metadata: { name: "baseline" } }).metadata.name;
