/**
 * A container of the rendered stack, run as a local process the way its pod would run it: the container's
 * args and environment as rendered (Secret and ConfigMap references resolved from the render, secrets filled
 * in by the offline render's provider emulation), and its volumes emulated by temp directories, every
 * mount path in args, environment and mounted files mapped to its directory.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RecordedResource } from "../../scripts/lib/engine/offline-run";
import { unwrapSecrets } from "../../domain/secret-values";

type Obj = Record<string, any>;

export interface ContainerProcess {
    /** The container's command and args, mount paths mapped. */
    command: string[];
    args: string[];
    /** Environment as rendered, mount paths mapped. */
    env: Record<string, string>;
}

/** The rendered object of `kind` named `name` (its inputs, secrets unwrapped). */
export function renderedObject(resources: RecordedResource[], kind: string, name: string): Obj {
    const found = resources
        .filter((r) => r.custom && r.type.endsWith(`:${kind}`))
        .map((r) => unwrapSecrets(r.inputs) as Obj)
        .find((o) => o.metadata?.name === name);
    if (!found) throw new Error(`the render has no ${kind} named ${name}`);
    return found;
}

/** The pod template of a Deployment or Job. */
function podSpec(resources: RecordedResource[], kind: "Deployment" | "Job", name: string): Obj {
    return renderedObject(resources, kind, name).spec.template.spec;
}

/** Every container (init containers too) of a Deployment or Job, by name. */
export function containers(resources: RecordedResource[], kind: "Deployment" | "Job", name: string): Obj[] {
    const spec = podSpec(resources, kind, name);
    return [...(spec.initContainers ?? []), ...spec.containers];
}

function configMapData(resources: RecordedResource[], name: string): Record<string, string> {
    return renderedObject(resources, "ConfigMap", name).data ?? {};
}

function secretValue(resources: RecordedResource[], name: string, key: string): string {
    const secret = renderedObject(resources, "Secret", name);
    if (secret.stringData?.[key] !== undefined) return String(secret.stringData[key]);
    if (secret.data?.[key] !== undefined) return Buffer.from(String(secret.data[key]), "base64").toString("utf8");
    throw new Error(`Secret ${name} has no key ${key}`);
}

export interface EmulatedPod {
    /** Mount path in the pod (of any container) -> directory here. */
    mounts: Record<string, string>;
    /** A container of the pod, ready to run here. */
    container(name: string): ContainerProcess;
    /** Removes the volume directories. */
    cleanup(): void;
}

/**
 * Emulates the pod of the Deployment or Job `name`: one directory per volume, shared by its containers as in
 * the pod (the init container's migrations land where the server reads). `fieldRefs` answers the downward
 * API (e.g. metadata.namespace).
 */
export function emulatePod(resources: RecordedResource[], kind: "Deployment" | "Job", name: string, fieldRefs: Record<string, string> = {}): EmulatedPod {
    const spec = podSpec(resources, kind, name);
    const all = containers(resources, kind, name);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `dcm-pod-${name}-`));
    const volumeDirs = new Map<string, string>();
    for (const v of (spec.volumes ?? []) as Obj[]) {
        const dir = path.join(root, v.name);
        fs.mkdirSync(dir);
        volumeDirs.set(v.name, dir);
        if (!v.configMap && !v.emptyDir) throw new Error(`${kind} ${name}: volume ${v.name} is neither a ConfigMap nor an emptyDir; emulate it first`);
    }
    const mounts: Record<string, string> = {};
    for (const c of all) {
        for (const m of c.volumeMounts ?? []) {
            const dir = volumeDirs.get(m.name);
            if (!dir) throw new Error(`${kind} ${name}: mount ${m.name} of ${c.name} names no volume`);
            if (mounts[m.mountPath] && mounts[m.mountPath] !== dir) throw new Error(`${kind} ${name}: ${m.mountPath} mounts two volumes; emulate per container first`);
            mounts[m.mountPath] = dir;
        }
    }
    // One pass, longest mount first, whole path segments only: a mapped directory (under /tmp) is never mapped again.
    const escape = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const mountPattern = new RegExp(`(?<![\\w.-])(${Object.keys(mounts).sort((a, b) => b.length - a.length).map(escape).join("|")})(?=/|$|[^\\w.-])`, "g");
    const mapPaths = (text: string) => (Object.keys(mounts).length ? text.replace(mountPattern, (m) => mounts[m]) : text);
    for (const v of (spec.volumes ?? []) as Obj[]) {
        if (!v.configMap) continue;
        for (const [file, text] of Object.entries(configMapData(resources, v.configMap.name))) {
            fs.writeFileSync(path.join(volumeDirs.get(v.name)!, file), mapPaths(String(text)));
        }
    }
    const valueOf = (e: Obj): string => {
        if (e.value !== undefined) return String(e.value);
        const from = e.valueFrom ?? {};
        if (from.secretKeyRef) return secretValue(resources, from.secretKeyRef.name, from.secretKeyRef.key);
        if (from.configMapKeyRef) return String(configMapData(resources, from.configMapKeyRef.name)[from.configMapKeyRef.key]);
        if (from.fieldRef && fieldRefs[from.fieldRef.fieldPath] !== undefined) return fieldRefs[from.fieldRef.fieldPath];
        throw new Error(`${kind} ${name}: env ${e.name} has a source this emulation does not answer`);
    };
    return {
        mounts,
        container(containerName: string) {
            const c = all.find((x) => x.name === containerName);
            if (!c) throw new Error(`${kind} ${name} has no container ${containerName} (has ${all.map((x) => x.name).join(", ")})`);
            return {
                command: (c.command ?? []).map((x: string) => mapPaths(x)),
                args: (c.args ?? []).map((x: string) => mapPaths(x)),
                env: Object.fromEntries((c.env ?? []).map((e: Obj) => [e.name, mapPaths(valueOf(e))])),
            };
        },
        cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
    };
}
