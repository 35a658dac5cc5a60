// The DC/OS Universe package format and repository index, read and checked.
//
// A repository index is `{"packages": [...]}` (Universe v3/v4 "repo" JSON); each entry is a
// package version with its metadata, `config` (the options' JSON Schema), `resource` (images,
// asset URIs) and the base64 `marathon.v2AppMustacheTemplate`. Yagura's extension for packages
// that install as a job is `metronome.v1JobMustacheTemplate`: a base64 Mustache template of a
// Metronome job, beside or instead of the Marathon one.
//
// The built-in repository is a directory tree in the Universe repo layout
// (`packages/<name>/<revision>/{package.json,config.json,resource.json,marathon.json.mustache,
// metronome.json.mustache}`), turned into the same index on start. Images given as file names
// are inlined as data: URIs so the dashboard never loads anything from another origin.

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { ErrorDetail } from '../../protocol/types.js';
import { schemaProblems } from './schema.js';

export type PackageKind = 'service' | 'job';

export interface UniversePackage {
  packagingVersion: string;
  name: string;
  version: string;
  releaseVersion: number;
  maintainer: string;
  description: string;
  tags: string[];
  selected: boolean;
  framework: boolean;
  preInstallNotes?: string;
  postInstallNotes?: string;
  postUninstallNotes?: string;
  licenses?: Array<{ name: string; url: string }>;
  website?: string;
  scm?: string;
  config?: Record<string, unknown>;
  resource?: Record<string, unknown>;
  marathon?: { v2AppMustacheTemplate: string };
  metronome?: { v1JobMustacheTemplate: string };
  /** Anything else the index carries, kept so describe shows it. */
  [extra: string]: unknown;
}

export const SUPPORTED_PACKAGING = ['2.0', '3.0', '4.0', '5.0'];
const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function kindOf(pkg: UniversePackage): PackageKind {
  return pkg.marathon ? 'service' : 'job';
}

export function isBase64(s: string): boolean {
  return /^[A-Za-z0-9+/\r\n]*={0,2}$/.test(s);
}

/** One index entry checked; problems are pointers relative to the entry. */
export function readPackage(raw: unknown, at: string): { pkg?: UniversePackage; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const bad = (path: string, msg: string) => problems.push({ path: `${at}${path}`, errors: [msg] });
  if (!isObject(raw)) {
    bad('', 'a package must be a JSON object');
    return { problems };
  }
  const str = (k: string, required: boolean): string | undefined => {
    const v = raw[k];
    if (v === undefined || v === null) {
      if (required) bad(`/${k}`, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      bad(`/${k}`, 'must be a string');
      return undefined;
    }
    return v;
  };
  const packagingVersion = str('packagingVersion', true);
  if (packagingVersion !== undefined && !SUPPORTED_PACKAGING.includes(packagingVersion)) bad('/packagingVersion', `must be one of ${SUPPORTED_PACKAGING.join(', ')}`);
  const name = str('name', true);
  if (name !== undefined && !NAME.test(name)) bad('/name', 'must be lower-case letters, digits and dashes');
  const version = str('version', true);
  if (version === '') bad('/version', 'must not be empty');
  const maintainer = str('maintainer', true);
  const description = str('description', true);
  let releaseVersion = 0;
  if (raw.releaseVersion !== undefined) {
    const n = typeof raw.releaseVersion === 'string' ? Number(raw.releaseVersion) : raw.releaseVersion;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) bad('/releaseVersion', 'must be a non-negative integer');
    else releaseVersion = n;
  }
  const tags = raw.tags === undefined ? [] : raw.tags;
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) bad('/tags', 'must be a list of strings');
  for (const k of ['selected', 'framework'] as const) if (raw[k] !== undefined && typeof raw[k] !== 'boolean') bad(`/${k}`, 'must be true or false');
  for (const k of ['preInstallNotes', 'postInstallNotes', 'postUninstallNotes', 'website', 'scm']) str(k, false);
  if (raw.licenses !== undefined && (!Array.isArray(raw.licenses) || raw.licenses.some((l) => !isObject(l) || typeof l.name !== 'string'))) {
    bad('/licenses', 'must be a list of {name, url}');
  }
  if (raw.config !== undefined) {
    if (!isObject(raw.config)) bad('/config', 'must be a JSON Schema object');
    else for (const p of schemaProblems(raw.config)) bad('/config', p);
  }
  if (raw.resource !== undefined && !isObject(raw.resource)) bad('/resource', 'must be an object');
  const template = (key: 'marathon' | 'metronome', field: string): void => {
    const v = raw[key];
    if (v === undefined) return;
    if (!isObject(v) || typeof v[field] !== 'string') bad(`/${key}/${field}`, 'must be a base64 string');
    else if (!isBase64(v[field] as string)) bad(`/${key}/${field}`, 'is not valid base64');
  };
  template('marathon', 'v2AppMustacheTemplate');
  template('metronome', 'v1JobMustacheTemplate');
  if (raw.marathon === undefined && raw.metronome === undefined) bad('/marathon', 'a package needs a Marathon template (marathon.v2AppMustacheTemplate) or a job template (metronome.v1JobMustacheTemplate)');
  if (problems.length) return { problems };
  const pkg = {
    ...raw,
    packagingVersion: packagingVersion!,
    name: name!,
    version: version!,
    releaseVersion,
    maintainer: maintainer!,
    description: description!,
    tags: tags as string[],
    selected: raw.selected === true,
    framework: raw.framework === true,
  } as UniversePackage;
  return { pkg, problems };
}

export interface ReadIndex {
  packages: UniversePackage[];
  /** Entries left out, with why (a repository with a few odd entries is still usable). */
  skipped: ErrorDetail[];
}

/** A repository index; throws with a clear message when it is not one at all. */
export function readIndex(raw: unknown): ReadIndex {
  if (!isObject(raw) || !Array.isArray(raw.packages)) {
    throw new IndexError('not a Universe repository index: expected a JSON object with a "packages" list');
  }
  const packages: UniversePackage[] = [];
  const skipped: ErrorDetail[] = [];
  raw.packages.forEach((entry, i) => {
    const { pkg, problems } = readPackage(entry, `/packages/${i}`);
    if (pkg) packages.push(pkg);
    else skipped.push(...problems);
  });
  if (raw.packages.length > 0 && packages.length === 0) {
    throw new IndexError(`not a usable Universe repository index: none of its ${raw.packages.length} packages is valid (${skipped[0]?.path}: ${skipped[0]?.errors[0]})`);
  }
  return { packages, skipped };
}

export class IndexError extends Error {}

/** Compares dotted versions numerically where they are numbers ("1.10.0" > "1.9.2"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

const MIME: Record<string, string> = { '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp' };

function inlineImages(images: unknown, dir: string): unknown {
  const inline = (v: unknown): unknown => {
    if (typeof v !== 'string' || /^[a-z][a-z0-9+.-]*:/i.test(v)) return v;
    const file = join(dir, v);
    const mime = MIME[extname(v).toLowerCase()];
    if (!mime || !existsSync(file) || v.includes('..')) return v;
    return `data:${mime};base64,${readFileSync(file).toString('base64')}`;
  };
  if (!isObject(images)) return images;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(images)) out[k] = Array.isArray(v) ? v.map(inline) : inline(v);
  return out;
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

/** The built-in repository's index, built from its directory tree; unreadable revisions are reported, not fatal. */
export function loadPackageTree(root: string): { packages: unknown[]; problems: ErrorDetail[] } {
  const packages: unknown[] = [];
  const problems: ErrorDetail[] = [];
  const dir = join(root, 'packages');
  if (!existsSync(dir)) return { packages, problems };
  for (const name of readdirSync(dir).sort()) {
    const revisions = readdirSync(join(dir, name)).filter((r) => /^\d+$/.test(r)).sort((a, b) => Number(a) - Number(b));
    for (const rev of revisions) {
      const at = join(dir, name, rev);
      try {
        const entry: Record<string, unknown> = { ...(readJson(join(at, 'package.json')) as Record<string, unknown>), releaseVersion: Number(rev) };
        if (existsSync(join(at, 'config.json'))) entry.config = readJson(join(at, 'config.json'));
        if (existsSync(join(at, 'resource.json'))) {
          const resource = readJson(join(at, 'resource.json')) as Record<string, unknown>;
          entry.resource = { ...resource, ...(resource.images ? { images: inlineImages(resource.images, at) } : {}) };
        }
        const b64 = (f: string) => readFileSync(join(at, f)).toString('base64');
        if (existsSync(join(at, 'marathon.json.mustache'))) entry.marathon = { v2AppMustacheTemplate: b64('marathon.json.mustache') };
        if (existsSync(join(at, 'metronome.json.mustache'))) entry.metronome = { v1JobMustacheTemplate: b64('metronome.json.mustache') };
        packages.push(entry);
      } catch (err) {
        problems.push({ path: `packages/${name}/${rev}`, errors: [(err as Error).message] });
      }
    }
  }
  return { packages, problems };
}
